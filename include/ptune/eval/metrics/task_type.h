// The kinds of task ptune evaluates. The metrics layer owns the enum because it is the lowest
// layer that needs it (each metric says which task types it applies to); the task layer
// re-exports it as tasks::TaskType and gives it its names (tasks::to_string).
#pragma once

namespace ptune::eval {

enum class TaskType { Classification, MultipleChoice, Generation, QA };

// Every task type, in declaration order.
inline constexpr TaskType kTaskTypes[] = {TaskType::Classification, TaskType::MultipleChoice,
                                          TaskType::Generation, TaskType::QA};

}  // namespace ptune::eval
