//! The root package holds no code: it owns the integration tests in `tests/`.
