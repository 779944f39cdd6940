//! The Rust `rdkafka` crate (librdkafka) against the real binary: idempotent produce with
//! keys, headers and timestamps; delivery reports match what a consumer reads.

use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use crate::kafka::Agent;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdkafka_round_trip_matches_delivery_reports() {
    let agent = Agent::start();
    let admin: rdkafka::admin::AdminClient<rdkafka::client::DefaultClientContext> =
        ClientConfig::new()
            .set("bootstrap.servers", &agent.addr)
            .create()
            .expect("admin");
    let topic =
        rdkafka::admin::NewTopic::new("rust-client", 3, rdkafka::admin::TopicReplication::Fixed(1));
    let created = admin
        .create_topics(&[topic], &rdkafka::admin::AdminOptions::new())
        .await
        .expect("create");
    assert!(created.iter().all(Result::is_ok), "{created:?}");

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &agent.addr)
        .set("enable.idempotence", "true")
        .set("compression.type", "zstd")
        .set("linger.ms", "5")
        .create()
        .expect("producer");
    let sends = (0..10_000u32).map(|i| {
        let producer = producer.clone();
        async move {
            let key = format!("k{i}");
            let value = format!("v{i}");
            let headers = OwnedHeaders::new().insert(Header {
                key: "i",
                value: Some(&i.to_be_bytes()),
            });
            let record = FutureRecord::to("rust-client")
                .key(&key)
                .payload(&value)
                .partition((i % 3) as i32)
                .timestamp(1_600_000_000_000 + i64::from(i))
                .headers(headers);
            let delivery = producer.send(record, Duration::from_secs(30)).await;
            (i, delivery.map_err(|(e, _)| e.to_string()))
        }
    });
    let reports = futures::future::join_all(sends).await;
    let mut expected = std::collections::HashMap::new();
    for (i, report) in reports {
        let delivery = report.unwrap_or_else(|e| panic!("record {i} not delivered: {e}"));
        expected.insert((delivery.partition, delivery.offset), i);
    }
    assert_eq!(expected.len(), 10_000, "every record at a distinct offset");

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &agent.addr)
        .set("group.id", "rust-client-test")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut assignment = TopicPartitionList::new();
    for p in 0..3 {
        assignment
            .add_partition_offset("rust-client", p, Offset::Beginning)
            .expect("assign");
    }
    consumer.assign(&assignment).expect("assign");
    let mut seen = 0;
    while seen < 10_000 {
        let message = consumer
            .poll(Duration::from_secs(10))
            .expect("a record within 10 s")
            .expect("no consumer error");
        let i = expected
            .remove(&(message.partition(), message.offset()))
            .unwrap_or_else(|| {
                panic!(
                    "unexpected record at {}@{}",
                    message.partition(),
                    message.offset()
                )
            });
        assert_eq!(message.key(), Some(format!("k{i}").as_bytes()));
        assert_eq!(message.payload(), Some(format!("v{i}").as_bytes()));
        assert_eq!(
            message.timestamp().to_millis(),
            Some(1_600_000_000_000 + i64::from(i))
        );
        let header = message.headers().expect("headers").get(0);
        assert_eq!(
            (header.key, header.value),
            ("i", Some(&i.to_be_bytes()[..]))
        );
        seen += 1;
    }
    assert!(expected.is_empty(), "every delivered record was read back");
}
