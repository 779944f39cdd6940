-- A flush commit adds one segment row per partition it wrote, and with many partitions each
-- row lands on a different B-tree page. As a rowid table with a separate primary-key index
-- and a last-offset index, every row dirtied three B-trees, two of them at random pages.
-- A WITHOUT ROWID table is its primary-key B-tree: one random page per row. Reads by offset
-- seek the primary key instead of the last-offset index.
CREATE TABLE segments_by_key (
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
) WITHOUT ROWID;
INSERT INTO segments_by_key
    SELECT topic_id, partition, base_offset, last_offset, max_timestamp, object_key,
           byte_offset, byte_length, record_count
    FROM segments;
DROP TABLE segments;
ALTER TABLE segments_by_key RENAME TO segments;
CREATE INDEX segments_by_object_key ON segments (object_key);
