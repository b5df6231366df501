//! Password hashing: argon2id for new hashes, Better Auth's scrypt verified and replaced on the next sign-in.
//!
//! Hashing is CPU-heavy, so it runs on a fixed pool of threads, one per core, never on the async runtime. Each
//! thread owns one argon2 memory area (19 MiB) that it reuses for every hash: memory stays bounded at
//! `threads × 19 MiB` however many sign-ins arrive, and no page is faulted in twice. (Allocating the area per hash
//! on tokio's blocking pool left it resident in glibc's per-thread arenas, one area per thread that ever hashed.)
//! The threads run at a lower scheduling priority (nice 10) than the threads serving requests: hashing has the cores
//! whenever nothing else wants them, yet a session read never waits behind a sign-in's hash.
//! Every failing path costs the same: a verify against one algorithm is followed by a dummy verify against the other
//! while legacy scrypt hashes remain, and an unknown email runs both dummies, so timing does not tell accounts apart.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicUsize, Ordering},
    mpsc,
};

use anyhow::Context;
use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::phc::{Output, ParamsString, PasswordHash, Salt},
};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;
use unicode_normalization::UnicodeNormalization;

use crate::domain::Password;

/// OWASP's argon2id parameters: 19 MiB, two passes, one lane.
const ARGON2_MEMORY_KIB: u32 = 19_456;
const ARGON2_PASSES: u32 = 2;
const ARGON2_LANES: u32 = 1;
const ARGON2_SALT_LEN: usize = 16;
const ARGON2_OUTPUT_LEN: usize = 32;

/// The hashing threads' niceness: CPU goes to request-serving threads first when both want it.
const HASHING_NICENESS: i32 = 10;

/// Better Auth's scrypt: N = 2^14, r = 16, p = 1, 64-byte key; stored as `saltHex:keyHex`.
const SCRYPT_LOG_N: u8 = 14;
const SCRYPT_R: u32 = 16;
const SCRYPT_P: u32 = 1;
const SCRYPT_KEY_LEN: usize = 64;
const DUMMY_SCRYPT: &str = "00000000000000000000000000000000:e8b256b6f9f4b1641136a66d4a26ba41a47b6c8c9bad6aa4145559ffda45ece1f0f16dec8482a3e5545feada0ba62f2b05eeb943b750c9396874e1762c78d27d";

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The password matches; `rehash` when the stored hash should be replaced by argon2id.
    Match {
        rehash: bool,
    },
    Mismatch,
}

#[derive(Clone)]
pub struct Hasher {
    pool: Arc<Pool>,
    /// Hashes waiting for a thread or running.
    queued: Arc<AtomicUsize>,
    dummy_argon2: Arc<str>,
    legacy_present: Arc<AtomicBool>,
}

impl Hasher {
    /// `concurrency` hashing threads; `legacy_present` says whether scrypt hashes are stored.
    pub fn new(concurrency: usize, legacy_present: bool) -> anyhow::Result<Self> {
        let dummy_argon2 = hash_argon2("warden-dummy-password", &mut Memory::default())?;
        Ok(Self {
            pool: Arc::new(Pool::start(concurrency.max(1))?),
            queued: Arc::default(),
            dummy_argon2: dummy_argon2.into(),
            legacy_present: Arc::new(AtomicBool::new(legacy_present)),
        })
    }

    pub async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let secret = password.expose().to_owned();
        self.run(move |memory| hash_argon2(&secret, memory)).await?
    }

    pub async fn verify(&self, password: &Password, stored: &str) -> anyhow::Result<Verdict> {
        let secret = password.expose().to_owned();
        let stored = stored.to_owned();
        if !stored.starts_with("$argon2") {
            self.legacy_present.store(true, Ordering::Relaxed);
        }
        let legacy_present = self.legacy_present.load(Ordering::Relaxed);
        let dummy_argon2 = self.dummy_argon2.clone();
        self.run(move |memory| {
            if stored.starts_with("$argon2") {
                let matched = verify_argon2(&secret, &stored, memory)?;
                if legacy_present {
                    verify_scrypt(&secret, DUMMY_SCRYPT)?;
                }
                Ok(verdict(matched, false))
            } else {
                let matched = verify_scrypt(&secret, &stored)?;
                if !matched {
                    verify_argon2(&secret, &dummy_argon2, memory)?;
                }
                Ok(verdict(matched, true))
            }
        })
        .await?
    }

    /// The work of a failed verify, for an email that has no account.
    pub async fn dummy_verify(&self, password: &Password) -> anyhow::Result<()> {
        let secret = password.expose().to_owned();
        let legacy_present = self.legacy_present.load(Ordering::Relaxed);
        let dummy_argon2 = self.dummy_argon2.clone();
        self.run(move |memory| {
            verify_argon2(&secret, &dummy_argon2, memory)?;
            if legacy_present {
                verify_scrypt(&secret, DUMMY_SCRYPT)?;
            }
            Ok(())
        })
        .await?
    }

    /// Hashes waiting for a thread or running now.
    pub fn queue_depth(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// How many hashes may run at once.
    pub fn workers(&self) -> usize {
        self.pool.threads
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let _queued = Queued::enter(&self.queued);
        let (reply, answer) = oneshot::channel();
        let span = tracing::Span::current();
        self.pool.submit(Box::new(move |memory: &mut Memory| {
            // A caller that gave up while the job waited costs no hashing.
            if !reply.is_closed() {
                let _ = reply.send(span.in_scope(|| work(memory)));
            }
        }))?;
        answer.await.context("hashing thread failed")
    }
}

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// The hashing threads and the queue they take jobs from; they exit when the last [`Hasher`] clone is dropped.
struct Pool {
    jobs: mpsc::Sender<Job>,
    threads: usize,
}

impl Pool {
    fn start(threads: usize) -> anyhow::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("warden-hash-{index}"))
                .spawn(move || {
                    lower_priority();
                    let mut memory = Memory::default();
                    loop {
                        // The lock is held only while waiting for the next job, never while hashing.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(mpsc::RecvError) => return,
                        }
                    }
                })
                .context("starting a password hashing thread")?;
        }
        Ok(Self { jobs, threads })
    }

    fn submit(&self, job: Job) -> anyhow::Result<()> {
        self.jobs
            .send(job)
            .map_err(|_| anyhow::anyhow!("the password hashing threads have stopped"))
    }
}

/// Lowers the calling thread's scheduling priority to [`HASHING_NICENESS`] (on Linux niceness is per thread).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority takes plain integers and touches no memory of ours; on Linux `who = 0` with
        // PRIO_PROCESS names the calling thread only.
        let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, HASHING_NICENESS) };
        if result != 0 {
            tracing::debug!(
                error = %std::io::Error::last_os_error(),
                "cannot lower the hashing threads' priority"
            );
        }
    }
}

/// One thread's argon2 working memory, grown on first use to the largest area a hash has needed and then reused.
#[derive(Default)]
struct Memory {
    blocks: Vec<Block>,
}

impl Memory {
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.blocks.len() < count {
            self.blocks.resize(count, Block::default());
        }
        &mut self.blocks[..count]
    }
}

/// One hash in the queue, counted until dropped, even when the caller gives up while it waits.
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn enter(queued: &'a AtomicUsize) -> Self {
        queued.fetch_add(1, Ordering::Relaxed);
        Self(queued)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn verdict(matched: bool, rehash: bool) -> Verdict {
    if matched {
        Verdict::Match { rehash }
    } else {
        Verdict::Mismatch
    }
}

fn owasp_params() -> Params {
    Params::new(
        ARGON2_MEMORY_KIB,
        ARGON2_PASSES,
        ARGON2_LANES,
        Some(ARGON2_OUTPUT_LEN),
    )
    .expect("OWASP argon2 parameters are valid")
}

/// A new argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) with a random salt.
fn hash_argon2(password: &str, memory: &mut Memory) -> anyhow::Result<String> {
    let params = owasp_params();
    let salt: [u8; ARGON2_SALT_LEN] = rand::random();
    let mut out = [0u8; ARGON2_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt,
            &mut out,
            memory.blocks(params.block_count()),
        )
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("argon2: {e}"))?,
        salt: Some(Salt::new(&salt).map_err(|e| anyhow::anyhow!("argon2 salt: {e}"))?),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("argon2 output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Verifies against a stored PHC string with the parameters it carries (so hashes made with other costs still work).
fn verify_argon2(password: &str, phc: &str, memory: &mut Memory) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(phc).map_err(|e| anyhow::anyhow!("stored argon2 hash: {e}"))?;
    let invalid = |e: &dyn std::fmt::Display| anyhow::anyhow!("stored argon2 hash: {e}");
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(|e| invalid(&e))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| invalid(&e))?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|e| invalid(&e))?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        anyhow::bail!("stored argon2 hash has no salt or no hash");
    };
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut out,
            memory.blocks(params.block_count()),
        )
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    Ok(bool::from(out.as_slice().ct_eq(expected.as_bytes())))
}

/// Better Auth's format: the salt is the 32-character hex string itself (its ASCII bytes), not decoded.
fn verify_scrypt(password: &str, stored: &str) -> anyhow::Result<bool> {
    let (salt, key_hex) = stored
        .split_once(':')
        .context("stored scrypt hash is not salt:key")?;
    let expected = hex::decode(key_hex).context("stored scrypt key is not hex")?;
    let params = scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)
        .map_err(|e| anyhow::anyhow!("scrypt params: {e}"))?;
    let normalized: String = password.nfkc().collect();
    let mut derived = [0u8; SCRYPT_KEY_LEN];
    scrypt::scrypt(
        normalized.as_bytes(),
        salt.as_bytes(),
        &params,
        &mut derived,
    )
    .map_err(|e| anyhow::anyhow!("scrypt: {e}"))?;
    Ok(expected.len() == SCRYPT_KEY_LEN && bool::from(derived.ct_eq(expected.as_slice())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR: &str = "0123456789abcdef0123456789abcdef:e8b256b6f9f4b1641136a66d4a26ba41a47b6c8c9bad6aa4145559ffda45ece1f0f16dec8482a3e5545feada0ba62f2b05eeb943b750c9396874e1762c78d27d";

    fn password(text: &str) -> Password {
        Password::from(text.to_owned())
    }

    #[test]
    fn better_auth_scrypt_vector_verifies() {
        assert!(verify_scrypt("password123", VECTOR).unwrap());
        assert!(!verify_scrypt("password124", VECTOR).unwrap());
    }

    #[tokio::test]
    async fn argon2id_hashes_round_trip_with_owasp_parameters() {
        let hasher = Hasher::new(2, false).unwrap();
        let hash = hasher.hash(&password("correct horse")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(
            hasher
                .verify(&password("correct horse"), &hash)
                .await
                .unwrap(),
            Verdict::Match { rehash: false }
        );
        assert_eq!(
            hasher
                .verify(&password("wrong horse"), &hash)
                .await
                .unwrap(),
            Verdict::Mismatch
        );
    }

    #[tokio::test]
    async fn hashes_made_elsewhere_and_with_other_costs_verify_with_their_own_parameters() {
        use argon2::password_hash::PasswordHasher as _;
        let hasher = Hasher::new(1, false).unwrap();
        let cheaper = Params::new(8_192, 3, 1, None).unwrap();
        let stored = [
            // The argon2 crate's own encoder at OWASP parameters, and a cheaper argon2id and an argon2i hash.
            Argon2::new(Algorithm::Argon2id, Version::V0x13, owasp_params())
                .hash_password(b"correct horse")
                .unwrap()
                .to_string(),
            Argon2::new(Algorithm::Argon2id, Version::V0x13, cheaper.clone())
                .hash_password(b"correct horse")
                .unwrap()
                .to_string(),
            Argon2::new(Algorithm::Argon2i, Version::V0x13, cheaper)
                .hash_password(b"correct horse")
                .unwrap()
                .to_string(),
        ];
        for stored in stored {
            assert_eq!(
                hasher
                    .verify(&password("correct horse"), &stored)
                    .await
                    .unwrap(),
                Verdict::Match { rehash: false },
                "{stored}"
            );
            assert_eq!(
                hasher
                    .verify(&password("correct horsf"), &stored)
                    .await
                    .unwrap(),
                Verdict::Mismatch,
                "{stored}"
            );
        }
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_at_a_lower_priority() {
        let hasher = Hasher::new(1, false).unwrap();
        // Read on the hashing thread itself, as a job would run.
        let stat = hasher
            .run(|_| std::fs::read_to_string("/proc/thread-self/stat"))
            .await
            .unwrap()
            .unwrap();
        // Fields after "pid (comm) ": state is field 3, nice field 19.
        let after_comm = &stat[stat.rfind(") ").unwrap() + 2..];
        assert_eq!(after_comm.split(' ').nth(16), Some("10"), "{stat}");
    }

    #[tokio::test]
    async fn each_hash_gets_a_fresh_salt() {
        let hasher = Hasher::new(2, false).unwrap();
        let first = hasher.hash(&password("correct horse")).await.unwrap();
        let second = hasher.hash(&password("correct horse")).await.unwrap();
        assert_ne!(first, second);
        PasswordHash::new(&first).unwrap();
    }

    #[tokio::test]
    async fn the_queue_counts_hashes_waiting_and_running_until_they_finish() {
        let hasher = Hasher::new(1, false).unwrap();
        assert_eq!(hasher.workers(), 1);
        let jobs: Vec<_> = (0..3)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.hash(&password("correct horse")).await })
            })
            .collect();
        let mut deepest = 0;
        for _ in 0..2_000 {
            deepest = deepest.max(hasher.queue_depth());
            if deepest == 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert_eq!(deepest, 3, "one running, two waiting");
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        assert_eq!(hasher.queue_depth(), 0);
    }

    #[tokio::test]
    async fn scrypt_matches_ask_for_a_rehash() {
        let hasher = Hasher::new(2, false).unwrap();
        assert_eq!(
            hasher
                .verify(&password("password123"), VECTOR)
                .await
                .unwrap(),
            Verdict::Match { rehash: true }
        );
        assert!(hasher.legacy_present.load(Ordering::Relaxed));
    }
}
