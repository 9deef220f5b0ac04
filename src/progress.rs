//! Progress on stderr: an indicatif spinner with blobs and bytes done and the rate, shown only
//! when asked for (by default, when stderr is a terminal and `--quiet` is not given).

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress display that costs nothing when hidden.
pub struct Progress {
    bar: Option<ProgressBar>,
    blobs: AtomicU64,
}

impl Progress {
    pub fn new(visible: bool) -> Progress {
        if !visible {
            return Progress {
                bar: None,
                blobs: AtomicU64::new(0),
            };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed_precise} {msg} blobs, {binary_bytes} ({binary_bytes_per_sec})",
            )
            .expect("static template"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress {
            bar: Some(bar),
            blobs: AtomicU64::new(0),
        }
    }

    /// Records one scanned blob of `bytes` bytes.
    pub fn blob_done(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            // The bar's position counts bytes (for the rate); blobs go in the message, updated
            // every 64 blobs so workers do not contend on the bar's lock.
            bar.inc(bytes);
            let blobs = self.blobs.fetch_add(1, Ordering::Relaxed) + 1;
            if blobs % 64 == 1 {
                bar.set_message(blobs.to_string());
            }
        }
    }

    /// Prints a line on stderr, above the bar when it is shown.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
