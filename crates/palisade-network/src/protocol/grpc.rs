//! gRPC: HTTP/2 whose request `content-type` is `application/grpc` or `application/grpc+<codec>` (gRPC
//! over HTTP/2 protocol description). The HTTP/2 detector decodes the headers and asks [`is_grpc`];
//! the method is the `:path` (`/package.Service/Method`).

/// Whether a request content type is gRPC's.
pub fn is_grpc(content_type: &str) -> bool {
    let ct = content_type.trim().to_ascii_lowercase();
    ct == "application/grpc" || ct.starts_with("application/grpc+") || ct.starts_with("application/grpc;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{AppProtocol, FlowBytes, Outcome, Transport, http2};

    #[test]
    fn curl_grpc_request_is_grpc_with_service_path() {
        let bytes = include_bytes!("../../fixtures/protocol/grpc.bin");
        let flow = FlowBytes { transport: Transport::Tcp, port: 50051, client: bytes, server: &[] };
        let Outcome::Match(d) = http2::detect(&flow) else { panic!() };
        assert_eq!(d.protocol, AppProtocol::Grpc);
        let h = d.http().unwrap();
        assert_eq!(h.method.as_deref(), Some("POST"));
        assert_eq!(h.path.as_deref(), Some("/helloworld.Greeter/SayHello"));
        assert_eq!(h.host.as_deref(), Some("grpc.example"));
    }

    #[test]
    fn content_types() {
        assert!(is_grpc("application/grpc"));
        assert!(is_grpc("Application/GRPC+proto"));
        assert!(!is_grpc("application/grpc-web"));
        assert!(!is_grpc("application/json"));
    }
}
