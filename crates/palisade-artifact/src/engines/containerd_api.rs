//! The few containerd gRPC messages and calls Palisade uses, written by hand so that building needs no `protoc`.
//!
//! Field numbers and types follow containerd's v1 API definitions in github.com/containerd/containerd:
//! - `api/types/descriptor.proto` (package `containerd.types`): `Descriptor`;
//! - `api/services/images/v1/images.proto` (package `containerd.services.images.v1`): `Image`,
//!   `GetImageRequest`, `GetImageResponse`, service `Images`, rpc `Get`;
//! - `api/services/content/v1/content.proto` (package `containerd.services.content.v1`): `Info`,
//!   `InfoRequest`, `InfoResponse`, `ReadContentRequest`, `ReadContentResponse`, service `Content`, rpcs
//!   `Info` and `Read` (server streaming);
//!
//! plus `Timestamp` from protobuf's well-known `google/protobuf/timestamp.proto`, which those files import.
//! Checked against containerd's API module release `api/v1.11.1` (containerd 2.x) and containerd `v1.6.20`
//! (Debian 12's daemon): these messages are the same in both. Only the messages used are here, each with every
//! field its `.proto` declares; fields a later version adds are skipped by the decoder, as protobuf intends.
//!
//! Requests carry the namespace in the `containerd-namespace` metadata header, as containerd requires.

use std::collections::HashMap;
use std::path::PathBuf;
use tonic::client::Grpc;
use tonic::codec::Streaming;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint, Uri};
use tonic::{Request, Status};
use tonic_prost::ProstCodec;

/// `google.protobuf.Timestamp`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// `containerd.types.Descriptor`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Descriptor {
    #[prost(string, tag = "1")]
    pub media_type: String,
    #[prost(string, tag = "2")]
    pub digest: String,
    #[prost(int64, tag = "3")]
    pub size: i64,
    #[prost(map = "string, string", tag = "5")]
    pub annotations: HashMap<String, String>,
}

/// `containerd.services.images.v1.Image`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Image {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(map = "string, string", tag = "2")]
    pub labels: HashMap<String, String>,
    #[prost(message, optional, tag = "3")]
    pub target: Option<Descriptor>,
    #[prost(message, optional, tag = "7")]
    pub created_at: Option<Timestamp>,
    #[prost(message, optional, tag = "8")]
    pub updated_at: Option<Timestamp>,
}

/// `containerd.services.images.v1.GetImageRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct GetImageRequest {
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `containerd.services.images.v1.GetImageResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct GetImageResponse {
    #[prost(message, optional, tag = "1")]
    pub image: Option<Image>,
}

/// `containerd.services.content.v1.Info`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Info {
    #[prost(string, tag = "1")]
    pub digest: String,
    #[prost(int64, tag = "2")]
    pub size: i64,
    #[prost(message, optional, tag = "3")]
    pub created_at: Option<Timestamp>,
    #[prost(message, optional, tag = "4")]
    pub updated_at: Option<Timestamp>,
    #[prost(map = "string, string", tag = "5")]
    pub labels: HashMap<String, String>,
}

/// `containerd.services.content.v1.InfoRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct InfoRequest {
    #[prost(string, tag = "1")]
    pub digest: String,
}

/// `containerd.services.content.v1.InfoResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct InfoResponse {
    #[prost(message, optional, tag = "1")]
    pub info: Option<Info>,
}

/// `containerd.services.content.v1.ReadContentRequest`: `size` 0 reads to the end.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ReadContentRequest {
    #[prost(string, tag = "1")]
    pub digest: String,
    #[prost(int64, tag = "2")]
    pub offset: i64,
    #[prost(int64, tag = "3")]
    pub size: i64,
}

/// `containerd.services.content.v1.ReadContentResponse`: `data` starts at `offset` of the blob.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ReadContentResponse {
    #[prost(int64, tag = "1")]
    pub offset: i64,
    #[prost(bytes = "vec", tag = "2")]
    pub data: Vec<u8>,
}

const IMAGES_GET: &str = "/containerd.services.images.v1.Images/Get";
const CONTENT_INFO: &str = "/containerd.services.content.v1.Content/Info";
const CONTENT_READ: &str = "/containerd.services.content.v1.Content/Read";

/// A gRPC channel to containerd's Unix socket. The endpoint needs a URI but never uses it: every connection the
/// channel opens goes to `path`.
pub(crate) async fn connect(path: PathBuf) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_static("http://[::]")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let path = path.clone();
            async move {
                let s = tokio::net::UnixStream::connect(path).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(s))
            }
        }))
        .await
}

/// The images and content services in one namespace.
#[derive(Clone)]
pub(crate) struct Client {
    channel: Channel,
    namespace: MetadataValue<Ascii>,
}

impl Client {
    /// Requests will carry `namespace` in the `containerd-namespace` header.
    pub(crate) fn new(channel: Channel, namespace: MetadataValue<Ascii>) -> Self {
        Client { channel, namespace }
    }

    fn request<T>(&self, msg: T) -> Request<T> {
        let mut r = Request::new(msg);
        r.metadata_mut().insert("containerd-namespace", self.namespace.clone());
        r
    }

    async fn grpc(&self) -> Result<Grpc<Channel>, Status> {
        let mut g = Grpc::new(self.channel.clone());
        g.ready()
            .await
            .map_err(|e| Status::unavailable(format!("connection to containerd not ready: {e}")))?;
        Ok(g)
    }

    /// `Images.Get`: the image stored under `name` (status NotFound when there is none).
    pub(crate) async fn get_image(&self, name: &str) -> Result<Image, Status> {
        let r = self.request(GetImageRequest { name: name.to_string() });
        let resp: GetImageResponse = self
            .grpc()
            .await?
            .unary(r, http::uri::PathAndQuery::from_static(IMAGES_GET), ProstCodec::default())
            .await?
            .into_inner();
        resp.image.ok_or_else(|| {
            Status::internal(format!("containerd answered Images.Get for {name} without an image"))
        })
    }

    /// `Content.Info`: what the content store knows of `digest` (status NotFound when it does not hold it).
    pub(crate) async fn info(&self, digest: &str) -> Result<Info, Status> {
        let r = self.request(InfoRequest { digest: digest.to_string() });
        let resp: InfoResponse = self
            .grpc()
            .await?
            .unary(r, http::uri::PathAndQuery::from_static(CONTENT_INFO), ProstCodec::default())
            .await?
            .into_inner();
        resp.info.ok_or_else(|| {
            Status::internal(format!("containerd answered Content.Info for {digest} without an info"))
        })
    }

    /// `Content.Read` of the whole blob `digest`, as a stream of chunks.
    pub(crate) async fn read(&self, digest: &str) -> Result<Streaming<ReadContentResponse>, Status> {
        let r = self.request(ReadContentRequest { digest: digest.to_string(), offset: 0, size: 0 });
        let resp = self
            .grpc()
            .await?
            .server_streaming(r, http::uri::PathAndQuery::from_static(CONTENT_READ), ProstCodec::default())
            .await?;
        Ok(resp.into_inner())
    }
}

#[cfg(test)]
mod tests {
    //! The expected bytes are worked out by hand from the `.proto` field numbers and types: a key byte is
    //! `field_number << 3 | wire_type` (0 varint, 2 length-delimited), so a wrong tag, or `sint64` in place of
    //! `int64`, changes them.
    use super::*;
    use prost::Message;

    fn kv() -> HashMap<String, String> {
        HashMap::from([("k".to_string(), "v".to_string())])
    }

    /// Encodes to `wire` and decodes back from it.
    fn round_trip<M: Message + Default + PartialEq + std::fmt::Debug>(msg: &M, wire: &[u8]) {
        assert_eq!(msg.encode_to_vec(), wire, "{msg:?}");
        assert_eq!(&M::decode(wire).expect("decodes"), msg);
    }

    // A map<string,string> entry {"k": "v"}: key = field 1, value = field 2.
    const KV_ENTRY: [u8; 6] = [0x0a, 0x01, b'k', 0x12, 0x01, b'v'];

    #[test]
    fn requests() {
        round_trip(&GetImageRequest { name: "ab".into() }, &[0x0a, 0x02, b'a', b'b']);
        round_trip(&InfoRequest { digest: "d".into() }, &[0x0a, 0x01, b'd']);
        round_trip(
            &ReadContentRequest { digest: "d".into(), offset: 5, size: 7 },
            &[0x0a, 0x01, b'd', 0x10, 0x05, 0x18, 0x07],
        );
        // Zero values are not sent (proto3).
        round_trip(&ReadContentRequest { digest: "d".into(), offset: 0, size: 0 }, &[0x0a, 0x01, b'd']);
    }

    #[test]
    fn read_content_response() {
        // offset = field 1 varint 128 (0x80 0x01); data = field 2 bytes.
        round_trip(
            &ReadContentResponse { offset: 128, data: vec![1, 2, 3] },
            &[0x08, 0x80, 0x01, 0x12, 0x03, 1, 2, 3],
        );
    }

    #[test]
    fn info_response() {
        let info = Info {
            digest: "d".into(),
            size: 42,
            created_at: Some(Timestamp { seconds: 1, nanos: 0 }),
            updated_at: Some(Timestamp { seconds: 2, nanos: 0 }),
            labels: kv(),
        };
        let mut inner = vec![
            0x0a, 0x01, b'd', // digest: field 1
            0x10, 42, // size: field 2, varint
            0x1a, 0x02, 0x08, 0x01, // created_at: field 3, Timestamp{seconds: 1}
            0x22, 0x02, 0x08, 0x02, // updated_at: field 4, Timestamp{seconds: 2}
            0x2a, 0x06, // labels: field 5, one entry
        ];
        inner.extend(KV_ENTRY);
        round_trip(&info, &inner);
        let mut wire = vec![0x0a, inner.len() as u8];
        wire.extend(&inner);
        round_trip(&InfoResponse { info: Some(info) }, &wire);
    }

    #[test]
    fn get_image_response() {
        let target = Descriptor { media_type: "m".into(), digest: "d".into(), size: 300, annotations: kv() };
        let mut desc = vec![
            0x0a, 0x01, b'm', // media_type: field 1
            0x12, 0x01, b'd', // digest: field 2
            0x18, 0xac, 0x02, // size: field 3, varint 300
            0x2a, 0x06, // annotations: field 5
        ];
        desc.extend(KV_ENTRY);
        round_trip(&target, &desc);

        let image = Image {
            name: "n".into(),
            labels: kv(),
            target: Some(target),
            created_at: Some(Timestamp { seconds: 1, nanos: 0 }),
            updated_at: Some(Timestamp { seconds: 0, nanos: 2 }),
        };
        let mut img = vec![0x0a, 0x01, b'n', 0x12, 0x06]; // name: field 1; labels: field 2
        img.extend(KV_ENTRY);
        img.extend([0x1a, desc.len() as u8]); // target: field 3
        img.extend(&desc);
        img.extend([0x3a, 0x02, 0x08, 0x01]); // created_at: field 7
        img.extend([0x42, 0x02, 0x10, 0x02]); // updated_at: field 8, Timestamp{nanos: 2}
        round_trip(&image, &img);

        let mut wire = vec![0x0a, img.len() as u8];
        wire.extend(&img);
        round_trip(&GetImageResponse { image: Some(image) }, &wire);
    }

    #[test]
    fn malformed_is_an_error() {
        // ReadContentResponse.data sent as a varint: wrong wire type for field 2.
        assert!(ReadContentResponse::decode(&[0x10, 0x01][..]).is_err());
        // A length running past the end.
        assert!(GetImageResponse::decode(&[0x0a, 0x05, 0x0a][..]).is_err());
        // Fields a later containerd may add are skipped.
        let got = InfoRequest::decode(&[0x0a, 0x01, b'd', 0x48, 0x01][..]).expect("unknown field skipped");
        assert_eq!(got.digest, "d");
    }
}
