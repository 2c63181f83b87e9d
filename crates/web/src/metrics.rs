//! Prometheus text metrics: requests by method, matched route and status, and
//! a latency histogram. No external crate: counters behind one mutex.

use std::collections::BTreeMap;
use std::sync::Mutex;

const BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut m = self.inner.lock().expect("metrics lock");
        *m.requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                m.buckets[i] += 1;
            }
        }
        m.count += 1;
        m.sum += seconds;
    }

    pub fn render(&self, db_up: bool) -> String {
        let m = self.inner.lock().expect("metrics lock");
        let mut s = String::new();
        s.push_str("# HELP gongzhi_http_requests_total HTTP requests by method, route and status.\n# TYPE gongzhi_http_requests_total counter\n");
        for ((method, route, status), n) in &m.requests {
            s.push_str(&format!("gongzhi_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}\n", route.replace('"', "'")));
        }
        s.push_str("# HELP gongzhi_http_request_duration_seconds HTTP request latency.\n# TYPE gongzhi_http_request_duration_seconds histogram\n");
        for (i, b) in BUCKETS.iter().enumerate() {
            s.push_str(&format!(
                "gongzhi_http_request_duration_seconds_bucket{{le=\"{b}\"}} {}\n",
                m.buckets[i]
            ));
        }
        s.push_str(&format!(
            "gongzhi_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n",
            m.count
        ));
        s.push_str(&format!("gongzhi_http_request_duration_seconds_sum {}\ngongzhi_http_request_duration_seconds_count {}\n", m.sum, m.count));
        s.push_str(&format!("# HELP gongzhi_database_up Whether the database answered.\n# TYPE gongzhi_database_up gauge\ngongzhi_database_up {}\n", u8::from(db_up)));
        s
    }
}
