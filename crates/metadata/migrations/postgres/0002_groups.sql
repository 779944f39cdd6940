-- Consumer-group coordination, PostgreSQL dialect. Keep in step with ../sqlite/0002_groups.sql.

-- One row per group a coordinator has claimed. Every claim bumps coordinator_epoch, and every
-- write on behalf of the group (its state, its offsets) is fenced by it. `state` is opaque to
-- the store (JSON written by the group coordinator); NULL until first stored.
CREATE TABLE groups (
    group_id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    coordinator       TEXT COLLATE "C" NOT NULL,
    coordinator_epoch BIGINT NOT NULL,
    state             TEXT,
    updated_at_ms     BIGINT NOT NULL
);

-- The last coordinator epoch handed out for each group id. Unlike `groups`, a row here
-- outlives delete_group, so a re-created group continues the count instead of starting at 1
-- again: a stale coordinator of the deleted group must never find its epoch current.
CREATE TABLE group_epochs (
    group_id   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    last_epoch BIGINT NOT NULL
);
