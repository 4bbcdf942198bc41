//! Every reader (JSON, describe output, CloudFormation JSON/YAML) and the offline rules on
//! arbitrary bytes: any panic, hang or runaway allocation is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskdef_validator::{input, rules};

fuzz_target!(|data: &[u8]| {
    if let Ok(document) = input::parse(data) {
        for subject in &document.subjects {
            if let Ok(checked) = rules::check(subject, &rules::Context::default()) {
                for finding in &checked.findings {
                    let _ = document.line(subject, &finding.pointer);
                }
            }
        }
    }
});
