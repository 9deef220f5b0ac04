//! Progress on stderr: an indicatif bar with blobs and bytes done, the rate and, when the total
//! is known (git histories), an ETA. Shown only when asked for (by default, when stderr is a
//! terminal and `--quiet` is not given); hidden, it costs two atomic adds per blob.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress display that costs nothing when hidden.
pub struct Progress {
    bar: Option<ProgressBar>,
    bytes: AtomicU64,
}

impl Progress {
    pub fn new(visible: bool) -> Progress {
        let bar = visible.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {elapsed_precise} {human_pos} blobs, {msg} ({per_sec})",
                )
                .expect("static template"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            bytes: AtomicU64::new(0),
        }
    }

    /// Announces how many blobs are coming, which turns the spinner into a bar with an ETA.
    pub fn set_total(&self, blobs: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(bar.position() + blobs);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {human_pos}/{human_len} blobs, {msg} ({per_sec}, ETA {eta})",
                )
                .expect("static template"),
            );
        }
    }

    /// Records one scanned blob of `bytes` bytes.
    pub fn blob_done(&self, bytes: u64) {
        let total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if let Some(bar) = &self.bar {
            bar.inc(1);
            // Refresh the byte count now and then, not per blob: the message takes a lock.
            if bar.position() % 64 == 1 {
                bar.set_message(HumanBytes(total).to_string());
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
