// ptune command-line entry point: each subcommand lives in its own cmd_*.cpp; the options more
// than one of them takes are defined once, in common.cpp. Errors print one line and exit 1.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "cli/common.h"
#include "cli/recording.h"
#include "ptune/runtime/openmp.h"

int main(int argc, char** argv) {
  ptune::reexec_with_passive_openmp(argv);
  ptune::cli::set_command_line(argc, argv);
  CLI::App app{"ptune: tune prompts for frozen language models"};
  app.require_subcommand(1);
  ptune::cli::register_info(app);
  ptune::cli::register_tokenize(app);
  ptune::cli::register_logits(app);
  ptune::cli::register_generate(app);
  ptune::cli::register_chat(app);
  ptune::cli::register_eval(app);
  ptune::cli::register_search(app);
  ptune::cli::register_tune(app);
  ptune::cli::register_runs(app);
  ptune::cli::register_report(app);
  ptune::cli::register_serve(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "ptune: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
