// libFuzzer target for prompt templates: tasks::Template::parse on the input, then a render of
// an example holding every field the template reads (values that look like template syntax and
// control tokens) with an instruction, demos and a target. Only TemplateError may escape the
// parse; the render must not throw. A crash, a sanitizer report, another exception, a data span
// outside the rendered text or out of order, or a field value missing from the render is a
// finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ptune/tasks/errors.h"
#include "ptune/tasks/template.h"

namespace {

using ptune::tasks::Example;
using ptune::tasks::RenderedPrompt;
using ptune::tasks::Segment;
using ptune::tasks::Template;
using ptune::tasks::TemplateContext;
using ptune::tasks::TemplateError;

const std::string kValue = "{x}<|im_start|>";  // data that must stay data

void check_spans(const RenderedPrompt& p) {
  for (const Segment& s : p.segments) {
    size_t end = 0;
    for (const auto& span : s.literal) {
      if (span.begin < end || span.end <= span.begin || span.end > s.text.size()) std::abort();
      end = span.end;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string source(reinterpret_cast<const char*>(data), size);
  Template t;
  try {
    t = Template::parse(source, "fuzz");
  } catch (const TemplateError& e) {
    if (e.offset() > source.size()) std::abort();
    return 0;
  }
  Example ex;
  ex.source = "fuzz";
  ex.line = 1;
  for (const std::string& f : t.fields()) ex.fields[f] = kValue;
  RenderedPrompt demos;
  demos.append_text("demo\n\n");
  const std::string target = "positive";
  TemplateContext ctx;
  ctx.instruction = "Classify.";
  ctx.demos = &demos;
  ctx.target = &target;
  const RenderedPrompt p = t.render(ex, ctx);
  check_spans(p);
  const std::string shown = p.display();
  if (!t.fields().empty() && shown.find(kValue) == std::string::npos) std::abort();
  if (!p.has_soft()) {
    const ptune::util::MarkedText m = p.marked();
    if (m.text != p.text()) std::abort();
  }
  return 0;
}
