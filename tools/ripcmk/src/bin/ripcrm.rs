#![cfg_attr(not(test), no_main)]
common::main!(
    "ripcrm",
    1,
    ripcmk::remove,
    args = ripcmk::remove::getopt_args
);
