use std::time::Duration;

use super::*;

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn every_family_is_named_streamhouse_and_counts() {
    let metrics = Metrics::new("1.2.3");
    let orders = metrics.producer.topic_counters("orders");
    metrics.producer.appended(&orders, 10, 1000);
    metrics.producer.appended(&orders, 5, 500);
    metrics.consumer.fetched("orders", 7, 700);
    metrics
        .storage
        .request(StorageOp::Put, Duration::from_millis(3), 4096, true);
    metrics
        .storage
        .request(StorageOp::Get, Duration::from_millis(1), 0, false);
    metrics.kafka.request("Produce", Duration::from_micros(800));
    metrics.consumer.set_lag([("g1", "orders", 42)]);
    let text = metrics.encode();
    assert_eq!(
        sample(
            &text,
            r#"streamhouse_producer_records_total{topic="orders"}"#
        ),
        Some(15.0)
    );
    assert_eq!(
        sample(&text, r#"streamhouse_producer_bytes_total{topic="orders"}"#),
        Some(1500.0)
    );
    assert_eq!(
        sample(&text, "streamhouse_producer_batch_records_count"),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"streamhouse_consumer_records_total{topic="orders"}"#
        ),
        Some(7.0)
    );
    assert_eq!(
        sample(&text, r#"streamhouse_s3_bytes_total{operation="put"}"#),
        Some(4096.0)
    );
    assert_eq!(
        sample(&text, r#"streamhouse_s3_errors_total{operation="get"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, r#"streamhouse_kafka_requests_total{api="Produce"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"streamhouse_consumer_lag{group="g1",topic="orders"}"#
        ),
        Some(42.0)
    );
    assert_eq!(
        sample(&text, r#"streamhouse_build_info{version="1.2.3"}"#),
        Some(1.0)
    );
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        assert!(
            line.starts_with("streamhouse_"),
            "unprefixed series: {line}"
        );
    }
    assert_eq!(metrics.producer.totals().records(), 15);
}

#[test]
fn lag_series_of_vanished_groups_are_removed() {
    let metrics = Metrics::new("0");
    metrics.consumer.set_lag([("a", "t", 1), ("b", "t", 2)]);
    metrics.consumer.set_lag([("b", "t", 3)]);
    let text = metrics.encode();
    assert_eq!(
        sample(&text, r#"streamhouse_consumer_lag{group="a",topic="t"}"#),
        None
    );
    assert_eq!(
        sample(&text, r#"streamhouse_consumer_lag{group="b",topic="t"}"#),
        Some(3.0)
    );
}
