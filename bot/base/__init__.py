"""What every package stands on: errors (the typed domain errors), validation (every
user-typed value is parsed here), redact (masking secrets in text), logs (logging that keeps
secrets out of the log), text (pure text helpers, e.g. `ago`).

May import: nothing of peerbot (the standard library and third-party packages only)."""
