//! Consumer groups with librdkafka (the `rdkafka` crate and kcat) against the real
//! binary: assignment, exactly-once consumption without rebalances, clean leaves, killed
//! members, committed offsets across restarts, cooperative-sticky, static membership and
//! a minute of membership churn.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::topic_partition_list::TopicPartitionList;

use crate::kafka::Agent;

/// Flags every group test starts its agent with: a short first-rebalance delay (Kafka's
/// 3 s default only slows tests down).
const AGENT_FLAGS: &[&str] = &["--groups-initial-rebalance-delay", "500ms"];

/// Which member owns which partition right now, across all members of a test; any
/// partition assigned to a second member before the first released it is recorded.
#[derive(Default)]
struct Owners {
    by_partition: Mutex<HashMap<i32, String>>,
    violations: Mutex<Vec<String>>,
    assignments: Mutex<usize>,
    /// Every successful commit: `(member, partition, offset)`, for diagnosing failures.
    commits: Mutex<Vec<(String, i32, i64)>>,
}

impl Owners {
    fn claim(&self, member: &str, partition: i32) {
        let mut owners = lock(&self.by_partition);
        if let Some(other) = owners.insert(partition, member.to_owned())
            && other != member
        {
            lock(&self.violations).push(format!(
                "partition {partition} assigned to {member} while {other} still owned it"
            ));
        }
    }

    fn release(&self, member: &str, partition: i32) {
        let mut owners = lock(&self.by_partition);
        if owners.get(&partition).map(String::as_str) == Some(member) {
            owners.remove(&partition);
        }
    }

    fn violations(&self) -> Vec<String> {
        lock(&self.violations).clone()
    }
}

struct GroupContext {
    name: String,
    owners: Arc<Owners>,
    assigned: Arc<Mutex<BTreeSet<i32>>>,
    revoked_sizes: Arc<Mutex<Vec<usize>>>,
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn commit_callback(
        &self,
        result: rdkafka::error::KafkaResult<()>,
        offsets: &TopicPartitionList,
    ) {
        if result.is_ok() {
            let mut commits = lock(&self.owners.commits);
            for e in offsets.elements() {
                if let rdkafka::Offset::Offset(o) = e.offset() {
                    commits.push((self.name.clone(), e.partition(), o));
                }
            }
        }
    }

    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let partitions = partitions_of(list);
            lock(&self.revoked_sizes).push(partitions.len());
            let mut assigned = lock(&self.assigned);
            for p in partitions {
                self.owners.release(&self.name, p);
                assigned.remove(&p);
            }
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance {
            *lock(&self.owners.assignments) += 1;
            let mut assigned = lock(&self.assigned);
            for p in partitions_of(list) {
                self.owners.claim(&self.name, p);
                assigned.insert(p);
            }
        }
    }
}

/// A record as a member consumed it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Consumed {
    partition: i32,
    offset: i64,
    key: String,
}

/// One librdkafka consumer in a group, polling on its own thread until stopped.
struct Member {
    name: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    consumed: Arc<Mutex<Vec<Consumed>>>,
    assigned: Arc<Mutex<BTreeSet<i32>>>,
    revoked_sizes: Arc<Mutex<Vec<usize>>>,
}

impl Member {
    fn start(
        addr: &str,
        group: &str,
        topic: &str,
        name: &str,
        extra: &[(&str, &str)],
        owners: &Arc<Owners>,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let consumed = Arc::new(Mutex::new(Vec::new()));
        let assigned = Arc::new(Mutex::new(BTreeSet::new()));
        let revoked_sizes = Arc::new(Mutex::new(Vec::new()));
        let context = GroupContext {
            name: name.to_owned(),
            owners: Arc::clone(owners),
            assigned: Arc::clone(&assigned),
            revoked_sizes: Arc::clone(&revoked_sizes),
        };
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", addr)
            .set("group.id", group)
            .set("client.id", name)
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "300")
            .set("auto.offset.reset", "earliest")
            .set("auto.commit.interval.ms", "200")
            // Offsets are stored only for records this thread has recorded: rdkafka's
            // Drop polls (and discards) whatever is still queued while it closes, and
            // automatic storing would commit those unread records as consumed.
            .set("enable.auto.offset.store", "false");
        for (key, value) in extra {
            config.set(*key, *value);
        }
        let consumer: BaseConsumer<GroupContext> =
            config.create_with_context(context).expect("consumer");
        consumer.subscribe(&[topic]).expect("subscribe");
        let thread = {
            let (stop, consumed) = (Arc::clone(&stop), Arc::clone(&consumed));
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match consumer.poll(Duration::from_millis(100)) {
                        Some(Ok(message)) => {
                            lock(&consumed).push(Consumed {
                                partition: message.partition(),
                                offset: message.offset(),
                                key: String::from_utf8_lossy(message.key().unwrap_or_default())
                                    .into_owned(),
                            });
                            // Fails only for a partition revoked meanwhile.
                            let _ = consumer.store_offset_from_message(&message);
                        }
                        Some(Err(error)) => eprintln!("consumer error: {error}"),
                        None => {}
                    }
                }
                // Commit what was read (as a member of the current generation), then close:
                // dropping the consumer leaves the group.
                let _ = consumer.commit_consumer_state(CommitMode::Sync);
                drop(consumer);
            })
        };
        Self {
            name: name.to_owned(),
            stop,
            thread: Some(thread),
            consumed,
            assigned,
            revoked_sizes,
        }
    }

    fn assigned(&self) -> BTreeSet<i32> {
        lock(&self.assigned).clone()
    }

    fn consumed(&self) -> Vec<Consumed> {
        lock(&self.consumed).clone()
    }

    fn revoked_sizes(&self) -> Vec<usize> {
        lock(&self.revoked_sizes).clone()
    }

    /// Closes the consumer (a clean leave) and returns what it consumed.
    fn stop(mut self) -> Vec<Consumed> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("consumer thread");
        }
        self.consumed()
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn partitions_of(list: &TopicPartitionList) -> Vec<i32> {
    list.elements().iter().map(|e| e.partition()).collect()
}

/// Polls `done` every 50 ms until it holds; panics with `what` after `timeout`.
fn wait_until(timeout: Duration, what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

fn create_topic(addr: &str, topic: &str, partitions: i32) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let admin: rdkafka::admin::AdminClient<rdkafka::client::DefaultClientContext> =
            ClientConfig::new()
                .set("bootstrap.servers", addr)
                .create()
                .expect("admin");
        let new = rdkafka::admin::NewTopic::new(
            topic,
            partitions,
            rdkafka::admin::TopicReplication::Fixed(1),
        );
        let created = admin
            .create_topics(&[new], &rdkafka::admin::AdminOptions::new())
            .await
            .expect("create topic");
        assert!(created.iter().all(Result::is_ok), "{created:?}");
    });
}

/// Produces keys `{prefix}{i}` for `i` in `range`, round-robin over `partitions`.
fn produce(addr: &str, topic: &str, partitions: i32, prefix: &str, range: std::ops::Range<u32>) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", addr)
        .set("linger.ms", "5")
        .create()
        .expect("producer");
    for i in range {
        let key = format!("{prefix}{i}");
        let mut record = BaseRecord::to(topic)
            .key(&key)
            .payload(&key)
            .partition((i % partitions as u32) as i32);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, back)) => {
                    producer.poll(Duration::from_millis(10));
                    record = back;
                }
            }
        }
    }
    producer.flush(Duration::from_secs(30)).expect("flush");
}

fn keys(records: &[Consumed]) -> BTreeSet<String> {
    records.iter().map(|r| r.key.clone()).collect()
}

fn expected_keys(prefix: &str, range: std::ops::Range<u32>) -> BTreeSet<String> {
    range.map(|i| format!("{prefix}{i}")).collect()
}

#[test]
fn three_consumers_share_six_partitions_read_everything_once_and_a_leave_reassigns() {
    let agent = Agent::start_with(AGENT_FLAGS);
    let (topic, group) = ("shared", "three");
    create_topic(&agent.addr, topic, 6);
    let owners = Arc::new(Owners::default());
    let members: Vec<Member> = (0..3)
        .map(|i| Member::start(&agent.addr, group, topic, &format!("m{i}"), &[], &owners))
        .collect();
    wait_until(Duration::from_secs(30), "2 partitions each", || {
        members.iter().all(|m| m.assigned().len() == 2)
    });
    let all: BTreeSet<i32> = members.iter().flat_map(Member::assigned).collect();
    assert_eq!(all, (0..6).collect(), "together they own every partition");

    produce(&agent.addr, topic, 6, "a", 0..6000);
    wait_until(Duration::from_secs(60), "6000 records consumed", || {
        members.iter().map(|m| m.consumed().len()).sum::<usize>() >= 6000
    });
    std::thread::sleep(Duration::from_millis(500));
    let consumed: Vec<Consumed> = members.iter().flat_map(Member::consumed).collect();
    let distinct: BTreeSet<(i32, i64)> = consumed.iter().map(|r| (r.partition, r.offset)).collect();
    assert_eq!(consumed.len(), 6000, "no record consumed twice");
    assert_eq!(distinct.len(), 6000);
    assert_eq!(keys(&consumed), expected_keys("a", 0..6000), "none missing");
    for member in &members {
        let owned = member.assigned();
        assert!(
            member
                .consumed()
                .iter()
                .all(|r| owned.contains(&r.partition)),
            "{} read only its own partitions",
            member.name
        );
    }

    // A clean leave: the others take over its partitions at the next heartbeat, long
    // before a session timeout (6 s) could have expired it.
    let mut members = members;
    let leaver = members.pop().expect("member");
    let left_at = Instant::now();
    let leaver_consumed = leaver.stop();
    wait_until(
        Duration::from_secs(30),
        "reassignment after a leave",
        || members.iter().all(|m| m.assigned().len() == 3),
    );
    // From the start of the close: librdkafka's close itself waits for the leave.
    let took = left_at.elapsed();
    println!("partitions of a member that left were reassigned {took:?} after it began closing");
    assert!(
        took < Duration::from_secs(6),
        "the leave was acted on, not the 6 s session timeout ({took:?})"
    );
    produce(&agent.addr, topic, 6, "b", 0..600);
    wait_until(Duration::from_secs(60), "records after the leave", || {
        let seen: BTreeSet<String> = members.iter().flat_map(|m| keys(&m.consumed())).collect();
        expected_keys("b", 0..600).is_subset(&seen)
    });
    let mut everything: BTreeSet<String> = keys(&leaver_consumed);
    for member in &members {
        everything.extend(keys(&member.consumed()));
    }
    assert!(expected_keys("a", 0..6000).is_subset(&everything));
    assert_eq!(owners.violations(), Vec::<String>::new());
}

#[test]
fn a_killed_member_is_expired_after_its_session_timeout_and_nothing_is_lost() {
    if !crate::kafka::have("kcat", Command::new("kcat").arg("-V")) {
        return;
    }
    let agent = Agent::start_with(AGENT_FLAGS);
    let (topic, group) = ("killed", "survivors");
    create_topic(&agent.addr, topic, 6);
    let owners = Arc::new(Owners::default());
    let survivor = Member::start(&agent.addr, group, topic, "survivor", &[], &owners);
    // The victim is a separate process (kcat's balanced consumer), so it can die without
    // leaving the group.
    let mut victim = Command::new("kcat")
        .args(["-b", &agent.addr, "-G", group, topic, "-f", "%k\n", "-u"])
        .args([
            "-X",
            "session.timeout.ms=6000",
            "-X",
            "heartbeat.interval.ms=300",
        ])
        .args([
            "-X",
            "auto.commit.interval.ms=200",
            "-X",
            "auto.offset.reset=earliest",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kcat");
    let victim_keys = Arc::new(Mutex::new(BTreeSet::new()));
    {
        let stdout = victim.stdout.take().expect("stdout");
        let victim_keys = Arc::clone(&victim_keys);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lock(&victim_keys).insert(line);
            }
        });
    }
    wait_until(Duration::from_secs(30), "the group to split 3/3", || {
        survivor.assigned().len() == 3
    });
    produce(&agent.addr, topic, 6, "k", 0..3000);
    wait_until(Duration::from_secs(60), "both members consuming", || {
        survivor.consumed().len() >= 1500 && lock(&victim_keys).len() >= 1000
    });
    victim.kill().expect("kill -9 the victim");
    let _ = victim.wait();
    let killed_at = Instant::now();
    wait_until(
        Duration::from_secs(30),
        "the survivor to own every partition",
        || survivor.assigned().len() == 6,
    );
    let took = killed_at.elapsed();
    println!("partitions of a killed member reassigned after {took:?}");
    assert!(
        took >= Duration::from_secs(3),
        "the killed member was expired by its session timeout, not earlier ({took:?})"
    );
    produce(&agent.addr, topic, 6, "after", 0..600);
    wait_until(
        Duration::from_secs(60),
        "every record consumed by someone",
        || {
            let mut seen = keys(&survivor.consumed());
            seen.extend(lock(&victim_keys).iter().cloned());
            expected_keys("k", 0..3000).is_subset(&seen)
                && expected_keys("after", 0..600).is_subset(&seen)
        },
    );
    assert_eq!(owners.violations(), Vec::<String>::new());
}

/// Committed positions of `group` on `topic`, via a consumer that does not join.
fn committed(addr: &str, group: &str, topic: &str, partitions: i32) -> BTreeMap<i32, i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", addr)
        .set("group.id", group)
        .create()
        .expect("consumer");
    let mut list = TopicPartitionList::new();
    for p in 0..partitions {
        list.add_partition(topic, p);
    }
    let committed = consumer
        .committed_offsets(list, Duration::from_secs(10))
        .expect("committed offsets");
    committed
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            rdkafka::Offset::Offset(o) => Some((e.partition(), o)),
            _ => None,
        })
        .collect()
}

#[test]
fn committed_offsets_survive_a_consumer_restart_and_an_agent_restart() {
    let mut agent = Agent::start_with(AGENT_FLAGS);
    let (topic, group) = ("durable", "resumer");
    create_topic(&agent.addr, topic, 3);
    produce(&agent.addr, topic, 3, "first", 0..300);
    let owners = Arc::new(Owners::default());
    let manual = [("enable.auto.commit", "false")];

    // Read some; the member commits exactly what it read as it stops.
    let reader = Member::start(&agent.addr, group, topic, "reader", &manual, &owners);
    wait_until(Duration::from_secs(30), "150 records", || {
        reader.consumed().len() >= 150
    });
    let first = reader.stop();
    let positions = next_offsets(&first);
    assert_eq!(committed(&agent.addr, group, topic, 3), positions);

    // A new consumer resumes exactly there.
    let resumed = Member::start(&agent.addr, group, topic, "resumed", &manual, &owners);
    wait_until(Duration::from_secs(30), "the rest", || {
        first.len() + resumed.consumed().len() >= 300
    });
    let second = resumed.consumed();
    for (partition, next) in &positions {
        let lowest = second
            .iter()
            .filter(|r| r.partition == *partition)
            .map(|r| r.offset)
            .min();
        // 100 records per partition: a partition read to its end has nothing left.
        let expected = (*next < 100).then_some(*next);
        assert_eq!(
            lowest, expected,
            "partition {partition} resumed at its commit"
        );
    }
    assert_eq!(
        first.len() + second.len(),
        300,
        "no redelivery beyond the commit"
    );
    let done = next_offsets(&[first, resumed.stop()].concat());
    assert_eq!(done.values().sum::<i64>(), 300);

    // The agent restarts; the commits are still there and nothing is read twice.
    agent.restart();
    assert_eq!(committed(&agent.addr, group, topic, 3), done);
    produce(&agent.addr, topic, 3, "second", 0..30);
    let after = Member::start(&agent.addr, group, topic, "after-restart", &manual, &owners);
    wait_until(Duration::from_secs(30), "the new records", || {
        keys(&after.consumed()) == expected_keys("second", 0..30)
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        after.consumed().len(),
        30,
        "nothing before the commit came back"
    );
}

/// Where `wanted` keys are in the log: `(key, partition, offset)`, read with assign().
fn locate(addr: &str, topic: &str, partitions: i32, wanted: &[String]) -> Vec<(String, i32, i64)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", addr)
        .set("group.id", "locator")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut list = TopicPartitionList::new();
    for p in 0..partitions {
        list.add_partition_offset(topic, p, rdkafka::Offset::Beginning)
            .expect("assign");
    }
    consumer.assign(&list).expect("assign");
    let mut found = Vec::new();
    let mut idle = 0;
    while idle < 20 {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                idle = 0;
                let key = String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned();
                if wanted.contains(&key) {
                    found.push((key, m.partition(), m.offset()));
                }
            }
            _ => idle += 1,
        }
    }
    found
}

/// Per partition, the offset after the last record read.
fn next_offsets(records: &[Consumed]) -> BTreeMap<i32, i64> {
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    for record in records {
        let offset = next.entry(record.partition).or_insert(0);
        *offset = (*offset).max(record.offset + 1);
    }
    next
}

#[test]
fn cooperative_sticky_moves_only_the_partitions_it_must() {
    let agent = Agent::start_with(AGENT_FLAGS);
    let (topic, group) = ("sticky", "cooperative");
    create_topic(&agent.addr, topic, 6);
    let owners = Arc::new(Owners::default());
    let cooperative = [("partition.assignment.strategy", "cooperative-sticky")];
    let first = Member::start(&agent.addr, group, topic, "first", &cooperative, &owners);
    wait_until(Duration::from_secs(30), "all 6 to the first member", || {
        first.assigned().len() == 6
    });
    let before = first.assigned();
    let second = Member::start(&agent.addr, group, topic, "second", &cooperative, &owners);
    wait_until(Duration::from_secs(30), "a 3/3 split", || {
        first.assigned().len() == 3 && second.assigned().len() == 3
    });
    assert_eq!(
        first.revoked_sizes(),
        vec![3],
        "only the moved partitions were revoked"
    );
    assert!(
        first.assigned().is_subset(&before),
        "the first member kept its own"
    );
    let third = Member::start(&agent.addr, group, topic, "third", &cooperative, &owners);
    wait_until(Duration::from_secs(30), "a 2/2/2 split", || {
        [&first, &second, &third]
            .iter()
            .all(|m| m.assigned().len() == 2)
    });
    assert_eq!(first.revoked_sizes(), vec![3, 1]);
    assert_eq!(second.revoked_sizes(), vec![1]);
    produce(&agent.addr, topic, 6, "c", 0..600);
    wait_until(Duration::from_secs(60), "every record", || {
        let seen: BTreeSet<String> = [&first, &second, &third]
            .iter()
            .flat_map(|m| keys(&m.consumed()))
            .collect();
        seen == expected_keys("c", 0..600)
    });
    assert_eq!(owners.violations(), Vec::<String>::new());
}

#[test]
fn a_restarted_static_member_gets_its_partitions_back_without_a_rebalance() {
    let agent = Agent::start_with(AGENT_FLAGS);
    let (topic, group) = ("static", "pods");
    create_topic(&agent.addr, topic, 6);
    let owners = Arc::new(Owners::default());
    let pod = |name: &'static str| -> Member {
        Member::start(
            &agent.addr,
            group,
            topic,
            name,
            &[("group.instance.id", name), ("session.timeout.ms", "20000")],
            &owners,
        )
    };
    let a = pod("pod-a");
    let b = pod("pod-b");
    wait_until(Duration::from_secs(30), "a 3/3 split", || {
        a.assigned().len() == 3 && b.assigned().len() == 3
    });
    let b_partitions = b.assigned();
    let rebalances = *lock(&owners.assignments);
    let a_revoked = a.revoked_sizes();
    // A static member leaves no LeaveGroup behind when it closes: its place is kept for
    // its session timeout.
    drop(b);
    std::thread::sleep(Duration::from_secs(1));
    let b = pod("pod-b");
    wait_until(Duration::from_secs(30), "pod-b's partitions back", || {
        b.assigned() == b_partitions
    });
    assert_eq!(a.revoked_sizes(), a_revoked, "pod-a gave nothing up");
    assert_eq!(
        *lock(&owners.assignments),
        rebalances + 1,
        "only pod-b's own assignment happened"
    );
    let groups = a_client(&agent.addr)
        .fetch_group_list(Some(group), Duration::from_secs(10))
        .expect("describe");
    let described = &groups.groups()[0];
    assert_eq!(described.state(), "Stable");
    assert_eq!(described.members().len(), 2);
}

fn a_client(addr: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", addr)
        .create()
        .expect("client")
}

#[test]
fn a_minute_of_members_joining_and_leaving_while_records_flow() {
    let seconds: u64 = std::env::var("STREAMHOUSE_CHURN_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let agent = Agent::start_with(AGENT_FLAGS);
    let (topic, group) = ("churn", "churners");
    create_topic(&agent.addr, topic, 8);
    let owners = Arc::new(Owners::default());
    let steady: Vec<Member> = (0..2)
        .map(|i| {
            Member::start(
                &agent.addr,
                group,
                topic,
                &format!("steady-{i}"),
                &[],
                &owners,
            )
        })
        .collect();

    // A producer writes numbered records for the whole run.
    let producing = Arc::new(AtomicBool::new(true));
    let producer = {
        let (addr, producing) = (agent.addr.clone(), Arc::clone(&producing));
        std::thread::spawn(move || {
            let mut next = 0u32;
            while producing.load(Ordering::SeqCst) {
                produce(&addr, "churn", 8, "r", next..next + 200);
                next += 200;
                std::thread::sleep(Duration::from_millis(200));
            }
            next
        })
    };

    let mut churners: Vec<Member> = Vec::new();
    let mut retired: Vec<Vec<Consumed>> = Vec::new();
    let mut retired_names: Vec<String> = Vec::new();
    let (mut joins, mut leaves) = (0, 0);
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut step = 0u64;
    while Instant::now() < end {
        step += 1;
        // Deterministic but irregular: join while few, leave while many.
        if churners.len() < 2 || (churners.len() < 4 && !step.is_multiple_of(3)) {
            churners.push(Member::start(
                &agent.addr,
                group,
                topic,
                &format!("churn-{step}"),
                &[],
                &owners,
            ));
            joins += 1;
        } else {
            let index = (step as usize * 7) % churners.len();
            let member = churners.remove(index);
            retired_names.push(member.name.clone());
            retired.push(member.stop());
            leaves += 1;
        }
        std::thread::sleep(Duration::from_millis(700 + (step % 5) * 300));
    }
    for member in churners.drain(..) {
        retired_names.push(member.name.clone());
        retired.push(member.stop());
        leaves += 1;
    }
    producing.store(false, Ordering::SeqCst);
    let produced = producer.join().expect("producer");

    // Every rebalance completed: the steady members own all partitions again...
    wait_until(
        Duration::from_secs(60),
        "the steady members to own everything",
        || steady.iter().map(|m| m.assigned().len()).sum::<usize>() == 8,
    );
    // ...and every record was consumed by someone.
    let seen = || {
        let mut seen: BTreeSet<String> = retired.iter().flat_map(|c| keys(c)).collect();
        seen.extend(steady.iter().flat_map(|m| keys(&m.consumed())));
        seen
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let missing: Vec<String> = expected_keys("r", 0..produced)
            .difference(&seen())
            .cloned()
            .collect();
        if missing.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            let found = locate(&agent.addr, topic, 8, &missing[..missing.len().min(3)]);
            if let Some((_, partition, offset)) = found.first() {
                let (partition, offset) = (*partition, *offset);
                for (member, p, o) in lock(&owners.commits).iter() {
                    if *p == partition && (offset - 30..offset + 60).contains(o) {
                        eprintln!("commit by {member}: p{p} @ {o}");
                    }
                }
                let mut all: Vec<(String, Vec<Consumed>)> = retired_names
                    .iter()
                    .cloned()
                    .zip(retired.iter().cloned())
                    .collect();
                all.extend(steady.iter().map(|m| (m.name.clone(), m.consumed())));
                for (member, records) in &all {
                    let near: Vec<i64> = records
                        .iter()
                        .filter(|r| {
                            r.partition == partition
                                && (offset - 30..offset + 60).contains(&r.offset)
                        })
                        .map(|r| r.offset)
                        .collect();
                    if !near.is_empty() {
                        eprintln!("{member} consumed p{partition} offsets {near:?}");
                    }
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} of {produced} records never consumed, e.g. {:?}; committed {:?}; in the log at {:?}",
            missing.len(),
            &missing[..missing.len().min(10)],
            committed(&agent.addr, group, topic, 8),
            locate(&agent.addr, topic, 8, &missing[..missing.len().min(10)])
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "{seconds}s of churn: {joins} joins, {leaves} leaves, {} assignments, {produced} records",
        *lock(&owners.assignments)
    );
    // Closing a member waits for its leave to be acted on, so a loaded machine churns
    // less; a handful of each is still a churning group.
    let enough = (seconds / 10).max(1);
    assert!(
        joins >= enough && leaves >= enough,
        "the group really churned"
    );
    assert_eq!(owners.violations(), Vec::<String>::new());
}
