//! `suite`: the performance issue's scenarios against a fresh agent per run, with the
//! agent's CPU seconds per scenario, its peak RSS, and its object-store PUT rate, printed
//! as one table. The client's own CPU (this process: librdkafka and the scenario loops) is
//! printed beside the agent's, because on a small machine the client is often the part
//! that runs out of CPU first.
//!
//! (a) produce 2,000,000 × 100 B to 6 partitions, acks=all, linger 5 ms; (b) produce
//! 200,000 × 1 KiB; (c) consume (a)'s records from the start (retrying a full local queue
//! after 10 ms, not librdkafka's 1 s: see `scenarios::consume`); (d) end-to-end latency at
//! 20,000 records/s for 20 s with librdkafka's default settings; (e) the same over 100
//! topics × 10 partitions; (f) 1,000,000 × 100 B from 50 producer connections at once.
//! With `--s3`, the agent stores objects in a real S3-API server (`s3s-fs`) started here.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rdkafka::config::ClientConfig;

use crate::scenarios;

/// Options of `suite`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SuiteArgs {
    /// The `streamhouse` binary to run (a release build).
    #[arg(long, default_value = "target/release/streamhouse")]
    agent: PathBuf,
    /// Store objects in a real S3-API server (`s3s-fs`, from PATH) instead of local files.
    #[arg(long)]
    s3: bool,
    /// Scenarios to run, as letters (c needs a).
    #[arg(long, default_value = "abcdef")]
    scenarios: String,
    /// Fresh agents to run the scenarios on, one after another.
    #[arg(long, default_value_t = 1)]
    runs: u32,
    /// More `streamhouse serve` flags, e.g. `--agent-arg=--engine-flush-interval=2ms`.
    #[arg(long = "agent-arg", value_name = "FLAG", allow_hyphen_values = true)]
    agent_args: Vec<String>,
    /// Keep every run's data directory, and print where it is, instead of deleting them
    /// at the end. For looking at the objects afterwards, and for suites run back to back
    /// on journal-less ext4, where the deletion makes every file created in the next few
    /// minutes dearer (see `run`).
    #[arg(long)]
    keep_data: bool,
}

/// One scenario's figures on one agent.
struct Row {
    scenario: char,
    result: String,
    /// The headline figure, for medians across runs (records/s, or p99 ms for e2e).
    headline: f64,
    cpu_seconds: f64,
    /// This process's CPU seconds during the scenario: the client's.
    client_cpu_seconds: f64,
    /// The scenario's wall-clock seconds, to turn CPU seconds into cores.
    seconds: f64,
    /// Records the scenario moved, for CPU per million.
    records: u64,
    puts_per_sec: f64,
    /// Object-store traffic during the scenario.
    storage: Requests,
    /// The agent's peak resident set size during the scenario, in MiB.
    peak_rss_mib: f64,
}

/// Object-store requests and payload bytes, from the agent's `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
struct Requests {
    puts: f64,
    gets: f64,
    put_bytes: f64,
    get_bytes: f64,
}

impl std::ops::Sub for Requests {
    type Output = Requests;
    fn sub(self, before: Requests) -> Requests {
        Requests {
            puts: self.puts - before.puts,
            gets: self.gets - before.gets,
            put_bytes: self.put_bytes - before.put_bytes,
            get_bytes: self.get_bytes - before.get_bytes,
        }
    }
}

impl Requests {
    /// PUTs per GB (10^9 bytes) written to the object store.
    fn puts_per_gb(&self) -> f64 {
        per_gb(self.puts, self.put_bytes)
    }

    /// GETs per GB read from the object store.
    fn gets_per_gb(&self) -> f64 {
        per_gb(self.gets, self.get_bytes)
    }
}

fn per_gb(requests: f64, bytes: f64) -> f64 {
    if bytes > 0.0 {
        requests / (bytes / 1e9)
    } else {
        f64::NAN
    }
}

/// A running agent (and its S3 server), killed on drop.
struct Running {
    agent: Child,
    s3: Option<Child>,
    kafka: String,
    http: String,
    /// The agent's data (and the S3 server's), kept until the whole suite ends: see
    /// [`run`].
    dir: Option<tempfile::TempDir>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.agent.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline && matches!(self.agent.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.agent.kill();
        let _ = self.agent.wait();
        if let Some(s3) = &mut self.s3 {
            let _ = s3.kill();
            let _ = s3.wait();
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn start(args: &SuiteArgs) -> anyhow::Result<Running> {
    let dir = tempfile::tempdir()?;
    let mut command = Command::new(&args.agent);
    command
        .args([
            "serve",
            "--kafka-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
        ])
        .args(["--log-filter", "warn", "--data-dir"])
        .arg(dir.path().join("agent"));
    let mut s3 = None;
    if args.s3 {
        let port = free_port()?;
        let root = dir.path().join("s3");
        std::fs::create_dir_all(root.join("bench"))?;
        s3 = Some(
            Command::new("s3s-fs")
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", "bench", "--secret-key", "benchsecret"])
                .arg(&root)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context(
                    "starting s3s-fs (cargo install s3s-fs@0.14.1 --features binary --locked)",
                )?,
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("s3s-fs did not listen on {port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        command.args(["--object-store", "s3://bench/streamhouse"]);
        for option in [
            format!("aws_endpoint=http://127.0.0.1:{port}"),
            "aws_access_key_id=bench".to_owned(),
            "aws_secret_access_key=benchsecret".to_owned(),
            "aws_region=us-east-1".to_owned(),
            "aws_allow_http=true".to_owned(),
        ] {
            command.args(["--object-store-option", &option]);
        }
    }
    command.args(&args.agent_args);
    let mut agent = command
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", args.agent.display()))?;
    let stdout = agent.stdout.take().context("agent stdout")?;
    // The first line naming the listeners; a wrapper (a profiler) may print lines before.
    let mut stdout = BufReader::new(stdout);
    let mut line = String::new();
    for _ in 0..20 {
        line.clear();
        if stdout.read_line(&mut line)? == 0 || line.contains("Kafka on ") {
            break;
        }
    }
    let field = |after: &str| {
        line.split(after)
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .map(str::to_owned)
    };
    let (Some(kafka), Some(http)) = (field("Kafka on "), field("HTTP on ")) else {
        let _ = agent.kill();
        bail!("the agent did not start: {line:?}");
    };
    Ok(Running {
        agent,
        s3,
        kafka,
        http: format!("http://{http}"),
        dir: Some(dir),
    })
}

impl Running {
    /// The agent's user + system CPU seconds so far.
    fn cpu_seconds(&self) -> anyhow::Result<f64> {
        cpu_seconds_of(&self.agent.id().to_string())
    }

    /// Restarts the peak-RSS count at the current RSS (`clear_refs` value 5), so the next
    /// `peak_rss_mib` is one scenario's peak.
    fn reset_peak_rss(&self) -> anyhow::Result<()> {
        std::fs::write(format!("/proc/{}/clear_refs", self.agent.id()), "5")
            .context("resetting the agent's peak RSS (/proc/<pid>/clear_refs)")
    }

    /// Peak resident set size (VmHWM) in MiB since start or the last `reset_peak_rss`.
    fn peak_rss_mib(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.agent.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .context("VmHWM")?
            .parse()?;
        Ok(kib / 1024.0)
    }

    /// Object-store requests and bytes so far, from the agent's `/metrics`.
    fn requests(&self) -> anyhow::Result<Requests> {
        let text = reqwest::blocking::get(format!("{}/metrics", self.http))?.text()?;
        let value = |name: &str, operation: &str| -> anyhow::Result<f64> {
            let prefix = format!(r#"{name}{{operation="{operation}"}} "#);
            Ok(text
                .lines()
                .find_map(|l| l.strip_prefix(prefix.as_str()))
                .map(|v| v.trim().parse::<f64>())
                .transpose()
                .with_context(|| format!("{name} in /metrics"))?
                .unwrap_or(0.0))
        };
        Ok(Requests {
            puts: value("streamhouse_s3_requests_total", "put")?,
            gets: value("streamhouse_s3_requests_total", "get")?,
            put_bytes: value("streamhouse_s3_bytes_total", "put")?,
            get_bytes: value("streamhouse_s3_bytes_total", "get")?,
        })
    }
}

/// Clock ticks per second of /proc times: Linux reports them in USER_HZ, which is 100.
const USER_HZ: f64 = 100.0;

/// User + system CPU seconds of a process (`pid`, or `self`) so far, all its threads.
fn cpu_seconds_of(pid: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start at state (3rd).
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("stat format")?;
    let mut fields = rest.split_whitespace().skip(11);
    let mut next =
        || -> anyhow::Result<f64> { Ok(fields.next().context("stat format")?.parse::<f64>()?) };
    let ticks = next()? + next()?;
    Ok(ticks / USER_HZ)
}

/// The machine's memory settings that moved benchmark figures on the VMs this suite ran
/// on (docs/benchmarks.md, eighth round), one line, so two tables can be compared. Each is
/// read from sysfs and left out where the kernel has no such file.
fn machine_notes() -> String {
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .ok()
            .map(|s| s.trim().to_owned())
    };
    let mut notes = vec![format!(
        "{} CPUs",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    )];
    if let Some(thp) = read("/sys/kernel/mm/transparent_hugepage/enabled") {
        notes.push(format!("transparent huge pages {thp}"));
    }
    // Free page reporting hands freed guest memory back to the host (virtio-balloon); the
    // next touch of such a page costs a host fault, billed as the guest's CPU. It reports
    // free blocks of 2^order pages; an order above the largest block turns it off.
    if let Some(order) = read("/sys/module/page_reporting/parameters/page_reporting_order") {
        notes.push(format!("free page reporting order {order}"));
    }
    if let Some(kdamonds) = read("/sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds") {
        notes.push(format!("DAMON kdamonds {kdamonds}"));
    }
    notes.join("; ")
}

fn run_scenario(
    running: &Running,
    scenario: char,
    config: &ClientConfig,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<Row> {
    running.reset_peak_rss()?;
    let (cpu0, client0, requests0, started) = (
        running.cpu_seconds()?,
        cpu_seconds_of("self")?,
        running.requests()?,
        Instant::now(),
    );
    let (result, headline, records): (String, f64, u64) = match scenario {
        'a' | 'b' | 'f' => {
            let (topic, records, size, producers) = match scenario {
                'a' => ("bench-a", 2_000_000, 100, 1),
                'b' => ("bench-b", 200_000, 1024, 1),
                _ => ("bench-f", 1_000_000, 100, 50),
            };
            runtime.block_on(scenarios::ensure_topics(config, &[topic.to_owned()], 6))?;
            let p = scenarios::produce(config, topic, records, size, 5, producers)?;
            (p.to_string(), p.records_per_sec(), records)
        }
        'c' => {
            let c = scenarios::consume(config, "bench-a", 2_000_000)?;
            (c.to_string(), c.records_per_sec(), c.records)
        }
        'd' | 'e' => {
            let (topics, partitions): (Vec<String>, i32) = if scenario == 'd' {
                (vec!["bench-d".to_owned()], 6)
            } else {
                ((0..100).map(|i| format!("bench-e-{i:03}")).collect(), 10)
            };
            runtime.block_on(scenarios::ensure_topics(config, &topics, partitions))?;
            let l = scenarios::e2e(config, &topics, 20_000, 20, 100)?;
            (l.to_string(), l.p99_ms, l.records)
        }
        other => bail!("no scenario {other:?}; use letters a-f"),
    };
    let seconds = started.elapsed().as_secs_f64();
    let client_cpu_seconds = cpu_seconds_of("self")? - client0;
    let storage = running.requests()? - requests0;
    Ok(Row {
        scenario,
        result,
        headline,
        cpu_seconds: running.cpu_seconds()? - cpu0,
        client_cpu_seconds,
        seconds,
        records,
        puts_per_sec: storage.puts / seconds,
        storage,
        peak_rss_mib: running.peak_rss_mib()?,
    })
}

pub(crate) fn run(args: &SuiteArgs, base: &ClientConfig) -> anyhow::Result<()> {
    if args.scenarios.contains('c') && !args.scenarios.contains('a') {
        bail!("scenario c consumes what a produced: include a");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut all: Vec<Row> = Vec::new();
    let mut peaks = Vec::new();
    // Every run's files are deleted only once the suite is done. On ext4 without a journal
    // (seen on benchmark VMs), creating a file skips, one by one, every inode freed in the
    // last minute or more; deleting a run's thousand objects between runs made each next
    // run's object PUTs measurably dearer. The price: disk for every run's data (about
    // 1 GB a run locally, at most).
    let mut finished_dirs = Vec::new();
    println!("machine: {}", machine_notes());
    for run in 1..=args.runs {
        let mut running = start(args)?;
        let mut config = base.clone();
        config.set("bootstrap.servers", &running.kafka);
        println!(
            "run {run}: agent on {} ({})",
            running.kafka,
            if args.s3 { "S3: s3s-fs" } else { "local files" }
        );
        for scenario in args.scenarios.chars() {
            let row = run_scenario(&running, scenario, &config, &runtime)?;
            println!(
                "  ({}) {}; agent CPU {:.2} s ({:.2} cores); client CPU {:.2} s ({:.2} cores); peak RSS {:.0} MiB; {:.1} PUT/s; {} PUTs ({:.1} MB), {} GETs ({:.1} MB)",
                row.scenario,
                row.result,
                row.cpu_seconds,
                row.cpu_seconds / row.seconds,
                row.client_cpu_seconds,
                row.client_cpu_seconds / row.seconds,
                row.peak_rss_mib,
                row.puts_per_sec,
                row.storage.puts,
                row.storage.put_bytes / 1e6,
                row.storage.gets,
                row.storage.get_bytes / 1e6,
            );
            all.push(row);
        }
        // Each scenario restarts the count, so the run's peak is the largest scenario peak.
        let peak = all[all.len() - args.scenarios.len()..]
            .iter()
            .map(|r| r.peak_rss_mib)
            .fold(0.0, f64::max);
        println!("  agent peak RSS {peak:.0} MiB");
        peaks.push(peak);
        if let Some(dir) = running.dir.take() {
            if args.keep_data {
                println!("  data kept in {}", dir.keep().display());
            } else {
                finished_dirs.push(dir);
            }
        }
    }
    println!();
    println!(
        "| scenario | median | agent CPU s (median) | CPU s per M records | client CPU s (median) | peak RSS MiB (max) | PUT/s (median) | PUTs per GB written | GETs per GB read |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for scenario in args.scenarios.chars() {
        let rows: Vec<&Row> = all.iter().filter(|r| r.scenario == scenario).collect();
        let headline = median(rows.iter().map(|r| r.headline));
        let cpu = median(rows.iter().map(|r| r.cpu_seconds));
        let per_million = median(
            rows.iter()
                .map(|r| r.cpu_seconds / (r.records as f64 / 1e6)),
        );
        let client = median(rows.iter().map(|r| r.client_cpu_seconds));
        let rss = rows.iter().map(|r| r.peak_rss_mib).fold(0.0, f64::max);
        let puts = median(rows.iter().map(|r| r.puts_per_sec));
        let puts_per_gb = median(rows.iter().map(|r| r.storage.puts_per_gb()));
        let gets_per_gb = median(rows.iter().map(|r| r.storage.gets_per_gb()));
        let figure = if matches!(scenario, 'd' | 'e') {
            format!("p99 {headline:.1} ms")
        } else {
            format!("{headline:.0} records/s")
        };
        println!(
            "| ({scenario}) | {figure} | {cpu:.2} | {per_million:.3} | {client:.2} | {rss:.0} | {puts:.1} | {} | {} |",
            or_dash(puts_per_gb),
            or_dash(gets_per_gb)
        );
    }
    println!(
        "| peak RSS | {:.0} MiB (max over runs) | | | | | | | |",
        peaks.iter().copied().fold(0.0, f64::max)
    );
    Ok(())
}

/// A per-GB figure, or a dash where no bytes moved.
fn or_dash(value: f64) -> String {
    if value.is_nan() {
        "–".to_owned()
    } else {
        format!("{value:.0}")
    }
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}
