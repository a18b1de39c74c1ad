// This file documents the wiring of the command.
//
// cmd/breadcrumb is the one place that reads flags, the environment and the
// configuration file, and the only package that imports every other one.
// main turns signals into a context and calls run, which the end-to-end
// tests call directly with their own arguments, environment and output.

package main
