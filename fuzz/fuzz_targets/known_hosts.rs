#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtssh::fuzzing::known_hosts(data));
