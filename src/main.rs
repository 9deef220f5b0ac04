//! The `leakhound` command line. Argument parsing lives in `cli/`; everything it calls is in
//! the library, which takes validated configs, never clap structs.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // A closed pipe (`leakhound scan . | head`) is not an error worth a message.
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("leakhound: error: {err:#}");
            ExitCode::from(cli::EXIT_ERROR)
        }
    }
}
