-- Reads by offset seek the primary key (see the SQLite migration of the same number); one
-- index fewer to update per segment row a flush commit adds.
DROP INDEX segments_by_last_offset;
