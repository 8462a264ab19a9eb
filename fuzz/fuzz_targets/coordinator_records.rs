//! Records of `__consumer_offsets` and `__transaction_state` as they are read back at
//! start-up: any key and value bytes decode or fail, never panic or allocate from a count.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First byte: where the key ends; the rest: key, then value (absent when empty).
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = usize::from(split).min(rest.len());
    let (key, value) = rest.split_at(at);
    let value = (!value.is_empty()).then_some(value);
    let _ = klamm::groups::records::CoordinatorRecord::decode(key, value);
    let _ = klamm::txn::records::decode(key, value);
});
