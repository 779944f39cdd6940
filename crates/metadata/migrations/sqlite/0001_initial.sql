-- StreamHouse metadata schema, SQLite dialect. Keep in step with ../postgres/0001_initial.sql.
-- Integers are INTEGER (64-bit); topic ids are UUID strings.

CREATE TABLE topics (
    id                TEXT    NOT NULL PRIMARY KEY,
    name              TEXT    NOT NULL UNIQUE,
    partition_count   INTEGER NOT NULL,
    retention_ms      INTEGER NOT NULL,
    retention_bytes   INTEGER NOT NULL,
    max_message_bytes INTEGER NOT NULL,
    cleanup_policy    TEXT    NOT NULL,
    timestamp_type    TEXT    NOT NULL,
    created_at_ms     INTEGER NOT NULL
);

-- One row per partition: log bounds plus the leadership lease, so that a flush commit is a
-- single conditional UPDATE per partition (fenced by leader_epoch and high_watermark).
CREATE TABLE partitions (
    topic_id            TEXT    NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    partition           INTEGER NOT NULL,
    log_start_offset    INTEGER NOT NULL DEFAULT 0,
    high_watermark      INTEGER NOT NULL DEFAULT 0,
    leader_agent_id     TEXT,
    leader_epoch        INTEGER NOT NULL DEFAULT 0,
    lease_expires_at_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (topic_id, partition)
);

-- The segment index: one row per partition run inside an object.
CREATE TABLE segments (
    topic_id      TEXT    NOT NULL,
    partition     INTEGER NOT NULL,
    base_offset   INTEGER NOT NULL,
    last_offset   INTEGER NOT NULL,
    max_timestamp INTEGER NOT NULL,
    object_key    TEXT    NOT NULL,
    byte_offset   INTEGER NOT NULL,
    byte_length   INTEGER NOT NULL,
    record_count  INTEGER NOT NULL,
    PRIMARY KEY (topic_id, partition, base_offset),
    FOREIGN KEY (topic_id, partition) REFERENCES partitions (topic_id, partition) ON DELETE CASCADE
);
CREATE INDEX segments_by_last_offset ON segments (topic_id, partition, last_offset);
CREATE INDEX segments_by_object_key ON segments (object_key);

CREATE TABLE agents (
    id              TEXT    NOT NULL PRIMARY KEY,
    advertised_addr TEXT    NOT NULL,
    rack            TEXT,
    started_at_ms   INTEGER NOT NULL,
    heartbeat_at_ms INTEGER NOT NULL
);

-- A single-row counter: allocate_producer_id increments next_id atomically.
CREATE TABLE producer_ids (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    next_id INTEGER NOT NULL
);
INSERT INTO producer_ids (id, next_id) VALUES (1, 0);

CREATE TABLE producer_states (
    topic_id       TEXT    NOT NULL,
    partition      INTEGER NOT NULL,
    producer_id    INTEGER NOT NULL,
    producer_epoch INTEGER NOT NULL,
    batches        TEXT    NOT NULL, -- JSON array of ProducerBatch, oldest first
    PRIMARY KEY (topic_id, partition, producer_id),
    FOREIGN KEY (topic_id, partition) REFERENCES partitions (topic_id, partition) ON DELETE CASCADE
);

-- Keyed by topic name (as Kafka clients commit), not id.
CREATE TABLE group_offsets (
    group_id            TEXT    NOT NULL,
    topic               TEXT    NOT NULL,
    partition           INTEGER NOT NULL,
    committed_offset    INTEGER NOT NULL,
    leader_epoch        INTEGER NOT NULL,
    metadata            TEXT,
    commit_timestamp_ms INTEGER NOT NULL,
    PRIMARY KEY (group_id, topic, partition)
);
