// Versioned schema. Each entry runs once, in order, inside a transaction; never edit a shipped
// migration — add the next one. Times are UTC epoch milliseconds.
export const migrations: readonly string[] = [
  /* 1: the seed's tables plus what the tool layer needs */ `
  CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    host TEXT NOT NULL,
    port INTEGER NOT NULL DEFAULT 22,
    ssh_user TEXT NOT NULL DEFAULT 'ocm',
    ssh_key_path TEXT,
    openclaw_path TEXT,
    transport TEXT NOT NULL DEFAULT 'ssh' CHECK (transport IN ('ssh','local')),
    role TEXT NOT NULL DEFAULT 'production' CHECK (role IN ('production','test','standby')),
    host_key TEXT,
    agent_version TEXT,
    openclaw_version TEXT,
    os TEXT,
    status TEXT NOT NULL DEFAULT 'unknown',
    status_detail TEXT,
    metrics TEXT,
    last_seen_at INTEGER,
    last_checked_at INTEGER,
    last_backup_at INTEGER,
    last_score INTEGER,
    last_score_at INTEGER,
    tags TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE backups (
    id INTEGER PRIMARY KEY,
    node_id TEXT NOT NULL,
    git_commit TEXT,
    git_tag TEXT,
    type TEXT NOT NULL,
    score INTEGER,
    is_stable INTEGER NOT NULL DEFAULT 0,
    file_count INTEGER,
    total_size INTEGER,
    changed INTEGER NOT NULL DEFAULT 1,
    note TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX backups_node ON backups(node_id, created_at);
  CREATE TABLE scores (
    id INTEGER PRIMARY KEY,
    node_id TEXT NOT NULL,
    total_score INTEGER,
    memory_score INTEGER,
    logic_score INTEGER,
    tool_score INTEGER,
    quality_score INTEGER,
    personality_score INTEGER,
    status TEXT NOT NULL DEFAULT 'complete',
    judge TEXT,
    details TEXT,
    action_taken TEXT,
    backup_id INTEGER,
    tokens_in INTEGER,
    tokens_out INTEGER,
    cost_usd REAL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX scores_node ON scores(node_id, created_at);
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    node_id TEXT,
    type TEXT NOT NULL,
    severity TEXT NOT NULL DEFAULT 'info' CHECK (severity IN ('info','warn','error','critical')),
    message TEXT NOT NULL,
    details TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX events_time ON events(created_at);
  CREATE INDEX events_node ON events(node_id, created_at);
  CREATE TABLE costs (
    id INTEGER PRIMARY KEY,
    node_id TEXT NOT NULL,
    day TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT 'node',
    created_at INTEGER NOT NULL,
    UNIQUE (node_id, day, model, source)
  );
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operator TEXT NOT NULL,
    operator_detail TEXT,
    action TEXT NOT NULL,
    target TEXT,
    params TEXT,
    result TEXT NOT NULL,
    error_message TEXT,
    duration_ms INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX audit_time ON audit_log(created_at);
  CREATE TABLE confirmations (
    token TEXT PRIMARY KEY,
    tool TEXT NOT NULL,
    args_hash TEXT NOT NULL,
    caller TEXT NOT NULL,
    tier TEXT NOT NULL,
    plan TEXT NOT NULL,
    target TEXT,
    code_hash TEXT,
    code_salt TEXT,
    dashboard_code TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','used','burned','cancelled','expired')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE locks (
    scope TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    operation TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    acquired_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE lock_waiters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    holder TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    heartbeat_at INTEGER NOT NULL
  );
  CREATE INDEX lock_waiters_scope ON lock_waiters(scope, id);
  CREATE TABLE operations (
    id TEXT PRIMARY KEY,
    tool TEXT NOT NULL,
    target TEXT,
    caller TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running','succeeded','failed','interrupted')),
    steps TEXT NOT NULL DEFAULT '[]',
    recovery TEXT,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    error TEXT,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    finished_at INTEGER
  );
  CREATE INDEX operations_status ON operations(status);
  CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    rule TEXT NOT NULL,
    node_id TEXT,
    severity TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'firing' CHECK (status IN ('firing','resolved')),
    fired_at INTEGER NOT NULL,
    last_sent_at INTEGER,
    resolved_at INTEGER
  );
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
];
