#![cfg_attr(not(test), no_main)]
common::main!(rnsenter);
