// Subcommands of the `vesta` binary. Each lives in its own src/cli/<name>_command.cc and
// registers itself:
//
//   namespace { void Add(CLI::App& app) { auto* cmd = app.add_subcommand("x", "..."); ... } }
//   VESTA_COMMAND(Add);
//
// A command reports failure by throwing CLI::RuntimeError(exit_code) from its callback after
// printing the reason to stderr.
#pragma once

#include <CLI/CLI.hpp>

namespace vesta::cli {

using CommandAdder = void (*)(CLI::App& app);

// Adds a command to the registry; returns true (for static initialisation).
bool RegisterCommand(CommandAdder adder);
// Adds every registered command to `app`.
void AddAllCommands(CLI::App& app);

}  // namespace vesta::cli

#define VESTA_COMMAND_CONCAT2(a, b) a##b
#define VESTA_COMMAND_CONCAT(a, b) VESTA_COMMAND_CONCAT2(a, b)
#define VESTA_COMMAND(adder)                                                    \
  static const bool VESTA_COMMAND_CONCAT(vesta_command_registered_, __LINE__) = \
      ::vesta::cli::RegisterCommand(adder)
