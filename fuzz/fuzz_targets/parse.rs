//! Every reader (JSON, describe output, CloudFormation JSON/YAML, Terraform container lists,
//! templates and `.tf` files) and the offline rules on arbitrary bytes: any panic, hang or
//! runaway allocation is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskdef_validator::{input, rules};

fuzz_target!(|data: &[u8]| {
    // The file name picks the reader as the CLI does: `.tf` is HCL, anything else is sniffed.
    for name in ["input.json", "main.tf"] {
        if let Ok(document) = input::parse_named(name, data) {
            for subject in &document.subjects {
                if let Ok(checked) = rules::check(subject, &rules::Context::default()) {
                    for finding in &checked.findings {
                        let _ = document.line(subject, &finding.pointer);
                        let _ = subject.shown_pointer(&finding.pointer);
                    }
                }
            }
        }
    }
});
