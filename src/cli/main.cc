// The `vesta` binary: a thin front over the subcommands in src/cli/*_command.cc.
#include <vector>

#include "cli/command.h"

namespace vesta::cli {

namespace {
std::vector<CommandAdder>& Registry() {
  static std::vector<CommandAdder> adders;
  return adders;
}
}  // namespace

bool RegisterCommand(CommandAdder adder) {
  Registry().push_back(adder);
  return true;
}

void AddAllCommands(CLI::App& app) {
  for (CommandAdder adder : Registry()) adder(app);
}

}  // namespace vesta::cli

int main(int argc, char** argv) {
  CLI::App app{"Vesta: a FHIR R4 health record server", "vesta"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "vesta 0.1.0");
  vesta::cli::AddAllCommands(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
