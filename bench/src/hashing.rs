//! The sign-in limit: a sign-in is one argon2id verify, so the most sign-ins a machine can do per second is its
//! core count divided by one verify's time. Timed here with Warden's parameters, in the same run as the load.

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};

/// OWASP's argon2id parameters, which Warden hashes with: 19 MiB, two passes, one lane.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;
const OUTPUT_LEN: usize = 32;

#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct HashingLimit {
    /// The median time of one verify on one core, in milliseconds.
    pub verify_ms: f64,
    pub cores: usize,
    /// `cores / verify time`: sign-ins per second if every core did nothing but verify.
    pub per_second: f64,
}

/// Times `samples` verifies one after another on a blocking thread and takes the median.
pub async fn measure(samples: usize) -> anyhow::Result<HashingLimit> {
    let verify = tokio::task::spawn_blocking(move || median_verify(samples.max(1))).await??;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    Ok(HashingLimit {
        verify_ms: verify.as_secs_f64() * 1000.0,
        cores,
        per_second: cores as f64 / verify.as_secs_f64(),
    })
}

/// Warden's hashing threads each reuse one memory area, so a verify costs the hash's own work and no page faults;
/// it is timed the same way here (a fresh 19 MiB area per verify would add the kernel's cost of faulting it in).
fn median_verify(samples: usize) -> anyhow::Result<Duration> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, Some(OUTPUT_LEN))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut memory = vec![Block::default(); params.block_count()];
    let password = crate::rest::PASSWORD.as_bytes();
    let salt = *b"bench-salt-bytes";
    let mut stored = [0u8; OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(password, &salt, &mut stored, &mut memory)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let mut computed = [0u8; OUTPUT_LEN];
        argon2
            .hash_password_into_with_memory(password, &salt, &mut computed, &mut memory)
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        anyhow::ensure!(computed == stored, "argon2 gave two answers for one input");
        times.push(started.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}
