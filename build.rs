//! `cfg(postgres_tests)` when `NEWSFEED_TEST_DATABASE_URL` is set, so that the
//! test suite marks its PostgreSQL-only tests ignored, not passed, without it.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=NEWSFEED_TEST_DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    if std::env::var_os("NEWSFEED_TEST_DATABASE_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
