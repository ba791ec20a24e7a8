#![cfg_attr(not(test), no_main)]
common::main!("ripcmk", 1, ripcmk::make, args = ripcmk::make::args);
