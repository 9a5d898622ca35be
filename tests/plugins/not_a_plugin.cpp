// A shared library that is not an ablate plugin: it exports none of the plugin symbols.
extern "C" __attribute__((visibility("default"))) int some_other_library_function() { return 7; }
