#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtssh::fuzzing::host_file(data));
