//! The Grafana dashboard in `packaging/grafana/` only queries metrics the daemon exposes: every `pulsar_*` name in
//! its expressions (histogram series by their family) appears in what `/metrics` renders.

use publisher_pulsar::daemon::DaemonStats;
use publisher_pulsar::metrics::render;

#[test]
fn every_metric_the_dashboard_queries_is_exposed() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../packaging/grafana/pulsar-dashboard.json"
    );
    let text = std::fs::read_to_string(path).expect("the dashboard is in the repository");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let exposed = render(&DaemonStats::default()).expect("renders");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(!panels.is_empty());
    let mut checked = 0;
    for panel in panels {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("an expression");
            let names = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("pulsar_"));
            for name in names {
                let family = name.strip_suffix("_bucket").unwrap_or(name);
                assert!(
                    exposed.lines().any(|l| l.starts_with(family)),
                    "panel {:?} queries {name}, which /metrics does not expose",
                    panel["title"]
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} metric references found");
}
