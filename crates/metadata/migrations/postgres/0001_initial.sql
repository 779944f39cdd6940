-- StreamHouse metadata schema, PostgreSQL dialect. Keep in step with ../sqlite/0001_initial.sql.
-- Text keys use COLLATE "C" so that ORDER BY matches SQLite's byte order on every server.

CREATE TABLE topics (
    id                TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name              TEXT COLLATE "C" NOT NULL UNIQUE,
    partition_count   INTEGER NOT NULL,
    retention_ms      BIGINT  NOT NULL,
    retention_bytes   BIGINT  NOT NULL,
    max_message_bytes INTEGER NOT NULL,
    cleanup_policy    TEXT    NOT NULL,
    timestamp_type    TEXT    NOT NULL,
    created_at_ms     BIGINT  NOT NULL
);

-- One row per partition: log bounds plus the leadership lease, so that a flush commit is a
-- single conditional UPDATE per partition (fenced by leader_epoch and high_watermark).
CREATE TABLE partitions (
    topic_id            TEXT COLLATE "C" NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    partition           INTEGER NOT NULL,
    log_start_offset    BIGINT  NOT NULL DEFAULT 0,
    high_watermark      BIGINT  NOT NULL DEFAULT 0,
    leader_agent_id     TEXT COLLATE "C",
    leader_epoch        INTEGER NOT NULL DEFAULT 0,
    lease_expires_at_ms BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (topic_id, partition)
);

-- The segment index: one row per partition run inside an object.
CREATE TABLE segments (
    topic_id      TEXT COLLATE "C" NOT NULL,
    partition     INTEGER NOT NULL,
    base_offset   BIGINT  NOT NULL,
    last_offset   BIGINT  NOT NULL,
    max_timestamp BIGINT  NOT NULL,
    object_key    TEXT COLLATE "C" NOT NULL,
    byte_offset   BIGINT  NOT NULL,
    byte_length   BIGINT  NOT NULL,
    record_count  BIGINT  NOT NULL,
    PRIMARY KEY (topic_id, partition, base_offset),
    FOREIGN KEY (topic_id, partition) REFERENCES partitions (topic_id, partition) ON DELETE CASCADE
);
CREATE INDEX segments_by_last_offset ON segments (topic_id, partition, last_offset);
CREATE INDEX segments_by_object_key ON segments (object_key);

CREATE TABLE agents (
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    advertised_addr TEXT   NOT NULL,
    rack            TEXT,
    started_at_ms   BIGINT NOT NULL,
    heartbeat_at_ms BIGINT NOT NULL
);

-- allocate_producer_id draws from this sequence: unique across the cluster, never reused.
CREATE SEQUENCE producer_ids AS BIGINT MINVALUE 0 START WITH 0;

CREATE TABLE producer_states (
    topic_id       TEXT COLLATE "C" NOT NULL,
    partition      INTEGER  NOT NULL,
    producer_id    BIGINT   NOT NULL,
    producer_epoch SMALLINT NOT NULL,
    batches        TEXT     NOT NULL, -- JSON array of ProducerBatch, oldest first
    PRIMARY KEY (topic_id, partition, producer_id),
    FOREIGN KEY (topic_id, partition) REFERENCES partitions (topic_id, partition) ON DELETE CASCADE
);

-- Keyed by topic name (as Kafka clients commit), not id.
CREATE TABLE group_offsets (
    group_id            TEXT COLLATE "C" NOT NULL,
    topic               TEXT COLLATE "C" NOT NULL,
    partition           INTEGER NOT NULL,
    committed_offset    BIGINT  NOT NULL,
    leader_epoch        INTEGER NOT NULL,
    metadata            TEXT,
    commit_timestamp_ms BIGINT  NOT NULL,
    PRIMARY KEY (group_id, topic, partition)
);
