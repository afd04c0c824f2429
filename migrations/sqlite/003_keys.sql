-- Keys the gateway generates for itself (the confirm-token HMAC key). Written once, never changed.
CREATE TABLE gateway_keys (
  name        TEXT PRIMARY KEY,
  key         BLOB NOT NULL,
  created_at  TEXT NOT NULL
);
