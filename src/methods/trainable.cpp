// What every continuous prompt shares; contract in ptune/methods/trainable.h.
#include "ptune/methods/trainable.h"

namespace ptune::methods {

PastKV soft_prompt_state(const Model& model, const torch::Tensor& embeddings) {
  ForwardArgs a;
  a.input_embeds = embeddings.unsqueeze(0);
  a.return_present = true;
  a.logits_at = LogitsAt::None;
  return model.forward(a).present;
}

}  // namespace ptune::methods
