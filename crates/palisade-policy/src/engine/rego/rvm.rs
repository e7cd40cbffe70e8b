//! One rule of a compiled group of modules, compiled further to regorus' bytecode VM (RVM).
//!
//! The RVM evaluates the same Rego as the interpreter about 1.7 times faster on the gatekeeper `general`
//! library (measured with `tests/rego_pool_bench.rs::rvm_against_interpreter`: 122,499 evaluations on the
//! 4,537 PSS fixture Pods, every result identical to the interpreter's). Not every policy compiles to it
//! (one `general` template does not); those, and evaluations with extra data (gator suite inventories),
//! stay on the interpreter, so [`Rvm::compile`] answering `None` is never an error.
//!
//! Limits: the same wall-clock timer as the interpreter, from the [`Budget`]; the VM's instruction cap is
//! raised from its default (25,000, which a Deployment with a few containers can reach) to
//! [`MAX_INSTRUCTIONS`], so the timer is what bounds an evaluation.

use super::{DEFAULT_TIME_LIMIT, EvalError};
use crate::engine::Budget;
use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::program::Program;
use regorus::rvm::vm::RegoVM;
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{CompiledPolicy, Engine, Value as RegoValue};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Instructions one evaluation may execute at most (the timer usually stops it first).
pub const MAX_INSTRUCTIONS: usize = 50_000_000;

/// Instructions between two reads of the clock. At 64 the clock reads were 3 % of an evaluation (callgrind,
/// gatekeeper `general` on the PSS fixture Pods); 1,024 instructions take about a microsecond, far below the
/// budget's resolution.
const TIMER_CHECK_INTERVAL: NonZeroU32 = match NonZeroU32::new(1024) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

/// A rule compiled to the RVM, with a pool of idle VMs (one evaluation per VM at a time).
pub struct Rvm {
    policy: CompiledPolicy,
    program: Arc<Program>,
    data: Option<RegoValue>,
    idle: Mutex<Vec<RegoVM>>,
}

impl std::fmt::Debug for Rvm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rvm").finish_non_exhaustive()
    }
}

impl Rvm {
    /// Compile `rule` (`data.pkg.violation`) of `prototype`'s modules with `data`; `None` when the RVM
    /// cannot run it.
    pub fn compile(prototype: &Engine, rule: &str, data: Option<RegoValue>) -> Option<Rvm> {
        let mut engine = prototype.clone();
        let policy = engine.compile_with_entrypoint(&rule.into()).ok()?;
        let program = Compiler::compile_from_policy(&policy, &[rule]).ok()?;
        let rvm = Rvm { policy, program, data, idle: Mutex::new(Vec::new()) };
        // Data that conflicts with the program's rules is refused by the VM: find out now.
        let vm = rvm.vm().ok()?;
        rvm.give_back(vm);
        Some(rvm)
    }

    fn vm(&self) -> Result<RegoVM, EvalError> {
        if let Some(vm) = self.idle.lock().ok().and_then(|mut v| v.pop()) {
            return Ok(vm);
        }
        let mut vm = RegoVM::new_with_policy(self.policy.clone());
        vm.load_program(self.program.clone());
        vm.set_max_instructions(MAX_INSTRUCTIONS);
        if let Some(d) = &self.data {
            vm.set_data(d.clone()).map_err(|e| EvalError(format!("cannot set data: {e}")))?;
        }
        Ok(vm)
    }

    fn give_back(&self, vm: RegoVM) {
        if let Ok(mut v) = self.idle.lock()
            && v.len() < 64
        {
            v.push(vm);
        }
    }

    /// Evaluate the rule on `input` within `budget`: its value (an empty set or `Undefined` when nothing
    /// holds).
    pub fn eval(&self, input: RegoValue, budget: &Budget) -> Result<RegoValue, EvalError> {
        let limit = match budget.deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => DEFAULT_TIME_LIMIT,
        };
        if limit.is_zero() {
            return Err(EvalError("the time budget ran out before evaluation".into()));
        }
        let mut vm = self.vm()?;
        vm.set_execution_timer_config(Some(ExecutionTimerConfig {
            limit,
            check_interval: TIMER_CHECK_INTERVAL,
        }));
        vm.set_input(input);
        let result = vm.execute().map_err(|e| EvalError(super::error_message(&e.to_string())));
        // A VM that failed may hold state of the failed run: only clean ones go back.
        if result.is_ok() {
            vm.set_input(RegoValue::Null);
            self.give_back(vm);
        }
        result
    }
}
