//! Per-provider limits: at most `concurrency` requests in flight and `rps` request starts per
//! second, and a pause after a 429, shared by every worker.

use std::{
    collections::HashMap,
    sync::{Condvar, Mutex},
    thread,
    time::{Duration, Instant},
};

#[derive(Default)]
struct ProviderState {
    in_flight: usize,
    /// No request to this provider starts before this instant.
    next_start: Option<Instant>,
}

pub struct Limiter {
    interval: Duration,
    concurrency: usize,
    state: Mutex<HashMap<String, ProviderState>>,
    freed: Condvar,
}

/// A slot for one request; dropping it frees the slot.
pub struct Permit<'a> {
    limiter: &'a Limiter,
    provider: String,
}

impl Limiter {
    pub fn new(rps: f64, concurrency: usize) -> Limiter {
        let interval = if rps > 0.0 && rps.is_finite() {
            Duration::from_secs_f64(1.0 / rps)
        } else {
            Duration::ZERO
        };
        Limiter {
            interval,
            concurrency,
            state: Mutex::new(HashMap::new()),
            freed: Condvar::new(),
        }
    }

    /// Waits for a free slot and the provider's next start time, then takes the slot.
    pub fn acquire(&self, provider: &str) -> Permit<'_> {
        let mut state = self.state.lock().unwrap();
        loop {
            let entry = state.entry(provider.to_string()).or_default();
            if entry.in_flight < self.concurrency {
                let now = Instant::now();
                let start = entry.next_start.map_or(now, |next| next.max(now));
                entry.next_start = Some(start + self.interval);
                entry.in_flight += 1;
                drop(state);
                thread::sleep(start - now);
                return Permit {
                    limiter: self,
                    provider: provider.to_string(),
                };
            }
            state = self.freed.wait(state).unwrap();
        }
    }

    /// Holds every request to `provider` back for `wait` (a 429's `Retry-After`).
    pub fn pause(&self, provider: &str, wait: Duration) {
        let mut state = self.state.lock().unwrap();
        let entry = state.entry(provider.to_string()).or_default();
        let until = Instant::now() + wait;
        entry.next_start = Some(entry.next_start.map_or(until, |next| next.max(until)));
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut state = self.limiter.state.lock().unwrap();
        if let Some(entry) = state.get_mut(&self.provider) {
            entry.in_flight -= 1;
        }
        self.limiter.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_requests_per_provider() {
        let limiter = Limiter::new(20.0, 4);
        let start = Instant::now();
        for _ in 0..5 {
            drop(limiter.acquire("a"));
        }
        // Starts at 0, 50, 100, 150, 200 ms.
        assert!(start.elapsed() >= Duration::from_millis(195));
        let other = Instant::now();
        drop(limiter.acquire("b"));
        assert!(
            other.elapsed() < Duration::from_millis(40),
            "providers are independent"
        );
    }
}
