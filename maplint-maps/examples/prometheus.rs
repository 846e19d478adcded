//! The `metrics` feature through a Prometheus exporter: named maps under load from a few
//! threads, then the exposition text a Prometheus server scrapes.
//!
//! ```text
//! cargo run -p maplint-maps --features metrics --example prometheus
//! cargo run -p maplint-maps --features metrics --example prometheus -- --serve 127.0.0.1:9898
//! ```
//!
//! With `--serve ADDR` it answers every HTTP request on `ADDR` with the current metrics (what
//! `metrics-exporter-prometheus`'s own HTTP listener does; point a scrape config at it) until
//! interrupted.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

use maplint_maps::{Compute, LockedMap, ShardedMap, SnapshotMap};
use metrics_exporter_prometheus::PrometheusBuilder;

fn main() {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .expect("no other recorder is installed");

    // Name the maps once the recorder is installed: naming registers their metrics.
    let sessions: ShardedMap<u64, u64> = ShardedMap::new().named("sessions");
    let config: LockedMap<String, String> = LockedMap::new().named("config");
    let routes: SnapshotMap<String, u16> = SnapshotMap::new().named("routes");

    thread::scope(|s| {
        for t in 0..4_u64 {
            let (sessions, config, routes) = (&sessions, &config, &routes);
            s.spawn(move || {
                for i in 0..20_000 {
                    sessions.compute(i % 512, |hits| match hits {
                        Some(n) => {
                            *n += 1;
                            Compute::Keep
                        }
                        None => Compute::Set(1),
                    });
                    if i % 100 == 0 {
                        config.insert(format!("worker-{t}"), i.to_string());
                    }
                    if i % 2_000 == 0 {
                        routes.insert(format!("/w{t}/{i}"), 200);
                    }
                }
            });
        }
    });
    sessions.publish_metrics();
    config.publish_metrics();
    routes.publish_metrics();

    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (Some("--serve"), Some(addr)) => {
            let listener = TcpListener::bind(&addr).expect("bind the address");
            eprintln!("serving the metrics on http://{addr}/metrics");
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = [0_u8; 1024];
                let _ = stream.read(&mut request);
                sessions.publish_metrics();
                let body = handle.render();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
            }
        }
        _ => print!("{}", handle.render()),
    }
}
