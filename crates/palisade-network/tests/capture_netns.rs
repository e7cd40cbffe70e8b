//! Capture on a trigger (the API a response rule calls): started, traffic flows, stopped; the file holds
//! exactly the packets of the flow, both ways, read back as pcap. Needs root and `ip`: skips without them.

mod support;

use palisade_network::capture::{CaptureConfig, Running, Stopped};
use pcap_file::pcap::PcapReader;
use std::time::Duration;
use support::lab::{Lab, NODE_ADDR, echo_server, exchange};

#[test]
fn a_triggered_capture_records_the_flow_until_stopped() {
    let Some(lab) = Lab::new("cap", 1) else { return };
    echo_server(&lab.node_ns(), 8080);
    let tmp = tempfile::tempdir().unwrap();
    let mut config = CaptureConfig::new(lab.pod_ns(0), tmp.path().join("pcap"));
    config.prefix = "incident-42".into();
    config.snaplen = 96;
    let mut bad = config.clone();
    bad.netns = palisade_network::netns::Netns::Path("/nonexistent".into());
    assert!(Running::start(bad).is_err(), "a namespace that is not there fails at once");
    let running = Running::start(config).unwrap();
    for _ in 0..3 {
        exchange(&lab.pod_ns(0), NODE_ADDR, 8080).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(!running.finished(), "the capture runs until stopped (60 s by default)");
    let summary = running.stop().unwrap();
    assert_eq!(summary.stopped, Stopped::Requested);
    assert_eq!(summary.files.len(), 1, "{summary:?}");
    assert!(summary.files[0].ends_with("incident-42-000.pcap"));

    let file = std::fs::File::open(&summary.files[0]).unwrap();
    let mut reader = PcapReader::new(file).unwrap();
    assert_eq!(reader.header().snaplen, 96);
    let (mut to_node, mut from_node, mut packets) = (0, 0, 0);
    while let Some(packet) = reader.next_packet() {
        let packet = packet.unwrap();
        packets += 1;
        let data = packet.data();
        assert!(data.len() <= 96 && packet.orig_len() as usize >= data.len());
        // Ethernet + IPv4: protocol at 23, source at 26..30, destination at 30..34, TCP ports after.
        if data.len() >= 38 && data[12..14] == [0x08, 0x00] && data[23] == 6 {
            let (src, dst) = (&data[26..30], &data[30..34]);
            let (sport, dport) =
                (u16::from_be_bytes([data[34], data[35]]), u16::from_be_bytes([data[36], data[37]]));
            if src == [10, 77, 0, 2] && dst == [10, 77, 0, 1] && dport == 8080 {
                to_node += 1;
            }
            if src == [10, 77, 0, 1] && dst == [10, 77, 0, 2] && sport == 8080 {
                from_node += 1;
            }
        }
    }
    assert_eq!(packets as u64, summary.packets);
    assert_eq!(std::fs::metadata(&summary.files[0]).unwrap().len(), summary.bytes);
    // Each exchange: handshake, data and echo, close: at least 4 packets each way.
    assert!(to_node >= 12 && from_node >= 12, "to the node {to_node}, back {from_node} of {packets}");
}

#[test]
fn a_quiet_capture_leaves_an_empty_pcap_and_never_overwrites_an_earlier_one() {
    let Some(lab) = Lab::new("cq", 1) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pcap");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("quiet-000.pcap"), "earlier evidence").unwrap();
    let mut config = CaptureConfig::new(lab.pod_ns(0), dir.clone());
    config.prefix = "quiet".into();
    // Loopback, which nothing uses here (eth0 carries IPv6 router solicitations of its own).
    config.interface = Some("lo".into());
    config.duration = Duration::from_millis(300);
    let summary =
        palisade_network::capture::capture(&config, &std::sync::atomic::AtomicBool::new(false)).unwrap();
    assert_eq!(summary.stopped, Stopped::Duration);
    assert_eq!(summary.packets, 0);
    assert!(summary.files[0].ends_with("quiet-001.pcap"), "{summary:?}");
    assert_eq!(std::fs::read_to_string(dir.join("quiet-000.pcap")).unwrap(), "earlier evidence");
    let reader = PcapReader::new(std::fs::File::open(&summary.files[0]).unwrap()).unwrap();
    assert_eq!(reader.into_iter().count(), 0);
    config.interface = Some("nosuch0".into());
    let err =
        palisade_network::capture::capture(&config, &std::sync::atomic::AtomicBool::new(false)).unwrap_err();
    assert!(err.to_string().contains("no interface \"nosuch0\""), "{err}");
}
