//! Kubernetes' CEL IP and CIDR libraries: `ip()`, `isIP()`, `cidr()`, `isCIDR()`; on an IP `family`,
//! `isUnspecified`, `isLoopback`, `isLinkLocalMulticast`, `isLinkLocalUnicast`, `isGlobalUnicast`; on a
//! CIDR `containsIP`, `containsCIDR`, `ip`, `masked`, `prefixLength`. As in Kubernetes, IPv4-mapped IPv6
//! addresses and zones are rejected.

use super::{fail, string_arg};
use cel::extractors::This;
use cel::objects::Opaque;
use cel::{Context, ExecutionError, Value};
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ip(pub IpAddr);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Opaque for Ip {
    fn runtime_type_name(&self) -> &str {
        "net.IP"
    }
    fn json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.0.to_string()))
    }
}

impl Opaque for Cidr {
    fn runtime_type_name(&self) -> &str {
        "net.CIDR"
    }
    fn json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(format!("{}/{}", self.addr, self.prefix)))
    }
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    if s.contains('%') {
        return None;
    }
    let ip: IpAddr = s.parse().ok()?;
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => None,
        _ => Some(ip),
    }
}

fn parse_cidr(s: &str) -> Option<Cidr> {
    let (addr, prefix) = s.split_once('/')?;
    let addr = parse_ip(addr)?;
    let prefix: u8 = prefix.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some(Cidr { addr, prefix })
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u32::from(v4) as u128, 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

fn mask(ip: IpAddr, prefix: u8) -> u128 {
    let (b, width) = bits(ip);
    if prefix == 0 {
        0
    } else {
        let shift = width - prefix;
        (b >> shift) << shift
    }
}

fn contains(c: &Cidr, ip: IpAddr) -> bool {
    c.addr.is_ipv4() == ip.is_ipv4() && mask(c.addr, c.prefix) == mask(ip, c.prefix)
}

fn ip_of(function: &str, v: &Value) -> Result<IpAddr, ExecutionError> {
    match v {
        Value::Opaque(o) => o.downcast_ref::<Ip>().map(|i| i.0).ok_or_else(|| fail(function, "not an IP")),
        Value::String(s) => parse_ip(s).ok_or_else(|| fail(function, format!("invalid IP address {s:?}"))),
        other => Err(fail(function, format!("expected an IP, got {:?}", other.type_of()))),
    }
}

fn cidr_of(function: &str, v: &Value) -> Result<Cidr, ExecutionError> {
    match v {
        Value::Opaque(o) => o.downcast_ref::<Cidr>().cloned().ok_or_else(|| fail(function, "not a CIDR")),
        Value::String(s) => parse_cidr(s).ok_or_else(|| fail(function, format!("invalid CIDR {s:?}"))),
        other => Err(fail(function, format!("expected a CIDR, got {:?}", other.type_of()))),
    }
}

fn ip(s: Value) -> Result<Value, ExecutionError> {
    if let Value::Opaque(o) = &s
        && let Some(c) = o.downcast_ref::<Cidr>()
    {
        return Ok(Value::Opaque(Arc::new(Ip(c.addr))));
    }
    Ok(Value::Opaque(Arc::new(Ip(ip_of("ip", &s)?))))
}

fn is_ip(s: Value) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(parse_ip(string_arg("isIP", &s)?).is_some()))
}

fn cidr(s: Value) -> Result<Value, ExecutionError> {
    Ok(Value::Opaque(Arc::new(cidr_of("cidr", &s)?)))
}

fn is_cidr(s: Value) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(parse_cidr(string_arg("isCIDR", &s)?).is_some()))
}

fn family(This(v): This<Value>) -> Result<Value, ExecutionError> {
    Ok(Value::Int(if ip_of("family", &v)?.is_ipv4() { 4 } else { 6 }))
}

fn is_unspecified(This(v): This<Value>) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(ip_of("isUnspecified", &v)?.is_unspecified()))
}

fn is_loopback(This(v): This<Value>) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(ip_of("isLoopback", &v)?.is_loopback()))
}

fn is_link_local_multicast(This(v): This<Value>) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(match ip_of("isLinkLocalMulticast", &v)? {
        IpAddr::V4(a) => a.octets()[..3] == [224, 0, 0],
        IpAddr::V6(a) => a.segments()[0] & 0xff0f == 0xff02,
    }))
}

fn is_link_local_unicast(This(v): This<Value>) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(match ip_of("isLinkLocalUnicast", &v)? {
        IpAddr::V4(a) => a.is_link_local(),
        IpAddr::V6(a) => a.segments()[0] & 0xffc0 == 0xfe80,
    }))
}

fn is_global_unicast(This(v): This<Value>) -> Result<Value, ExecutionError> {
    let ip = ip_of("isGlobalUnicast", &v)?;
    let special = ip.is_unspecified() || ip.is_loopback() || ip.is_multicast();
    let link_local = match ip {
        IpAddr::V4(a) => a.is_link_local() || a.is_broadcast(),
        IpAddr::V6(a) => a.segments()[0] & 0xffc0 == 0xfe80,
    };
    Ok(Value::Bool(!special && !link_local))
}

fn contains_ip(This(c): This<Value>, ip: Value) -> Result<Value, ExecutionError> {
    let c = cidr_of("containsIP", &c)?;
    Ok(Value::Bool(contains(&c, ip_of("containsIP", &ip)?)))
}

fn contains_cidr(This(c): This<Value>, other: Value) -> Result<Value, ExecutionError> {
    let c = cidr_of("containsCIDR", &c)?;
    let o = cidr_of("containsCIDR", &other)?;
    Ok(Value::Bool(o.prefix >= c.prefix && contains(&c, o.addr)))
}

fn masked(This(c): This<Value>) -> Result<Value, ExecutionError> {
    let c = cidr_of("masked", &c)?;
    let m = mask(c.addr, c.prefix);
    let addr = match c.addr {
        IpAddr::V4(_) => IpAddr::V4((m as u32).into()),
        IpAddr::V6(_) => IpAddr::V6(m.into()),
    };
    Ok(Value::Opaque(Arc::new(Cidr { addr, prefix: c.prefix })))
}

fn prefix_length(This(c): This<Value>) -> Result<Value, ExecutionError> {
    Ok(Value::Int(cidr_of("prefixLength", &c)?.prefix as i64))
}

pub(super) fn register(ctx: &mut Context, r: &mut dyn FnMut(Result<(), cel::DeclarationError>)) {
    r(ctx.add_function("ip", ip));
    r(ctx.add_function("isIP", is_ip));
    r(ctx.add_function("cidr", cidr));
    r(ctx.add_function("isCIDR", is_cidr));
    r(ctx.add_function("family", family));
    r(ctx.add_function("isUnspecified", is_unspecified));
    r(ctx.add_function("isLoopback", is_loopback));
    r(ctx.add_function("isLinkLocalMulticast", is_link_local_multicast));
    r(ctx.add_function("isLinkLocalUnicast", is_link_local_unicast));
    r(ctx.add_function("isGlobalUnicast", is_global_unicast));
    r(ctx.add_function("containsIP", contains_ip));
    r(ctx.add_function("containsCIDR", contains_cidr));
    r(ctx.add_function("masked", masked));
    r(ctx.add_function("prefixLength", prefix_length));
}

#[cfg(test)]
mod tests {
    use super::super::tests::eval;
    use cel::Value;

    #[test]
    fn ips_and_cidrs() {
        let t = |e: &str| assert_eq!(eval(e), Ok(Value::Bool(true)), "{e}");
        t("isIP('10.0.0.1') && !isIP('10.0.0.256') && !isIP('::ffff:1.2.3.4')");
        t("ip('10.0.0.1').family() == 4 && ip('fe80::1').family() == 6");
        t("cidr('10.0.0.0/8').containsIP('10.1.2.3') && !cidr('10.0.0.0/8').containsIP(ip('11.0.0.1'))");
        t(
            "cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16') && !cidr('10.1.0.0/16').containsCIDR('10.0.0.0/8')",
        );
        t("cidr('10.1.2.3/8').masked() == cidr('10.0.0.0/8') && cidr('10.0.0.0/8').prefixLength() == 8");
        t(
            "ip('127.0.0.1').isLoopback() && ip('8.8.8.8').isGlobalUnicast() && !ip('0.0.0.0').isGlobalUnicast()",
        );
        t("isCIDR('::1/128') && !isCIDR('1.2.3.4/33')");
    }
}
