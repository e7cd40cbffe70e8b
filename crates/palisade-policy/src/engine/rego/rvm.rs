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
//!
//! Rule metadata is slimmed once at compile time ([`slim`]): regorus 0.14.1 clones a rule's `RuleInfo`
//! on every rule and function call, and each clone allocated its name, its parameter names and one vector
//! per definition that the VM only reads as "all false" / "all none". With those emptied (the VM reads an
//! absent entry exactly as `false`/`None`) a call clones no heap data: on the PSS fixture Pods that was
//! half of all allocations and about a tenth of the instructions of an evaluation.

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
        let program = slim(Compiler::compile_from_policy(&policy, &[rule]).ok()?);
        let rvm = Rvm { policy, program, data, idle: Mutex::new(Vec::new()) };
        // Data that conflicts with the program's rules is refused by the VM: find out now.
        let vm = rvm.vm().ok()?;
        rvm.give_back(vm);
        Some(rvm)
    }

    /// The compiled program (for tests).
    pub fn program(&self) -> &Program {
        &self.program
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

/// Empty the per-rule metadata the VM clones on every rule call but never needs (see the module docs):
/// the rule's name and parameter names (read only by listings and debuggers), `else_bodies` when no body
/// is an `else` and `destructuring_blocks` when no definition destructures its arguments. The VM reads
/// both with `.get(index)`, so an empty vector answers `false`/`None` for every index, as the full one
/// did. Evaluation is unchanged (the OPA differential test and the gatekeeper suites run on slimmed
/// programs).
pub fn slim(program: Arc<Program>) -> Arc<Program> {
    let mut program = Arc::unwrap_or_clone(program);
    for rule in &mut program.rule_infos {
        rule.name = String::new();
        if let Some(f) = &mut rule.function_info {
            f.param_names = Vec::new();
        }
        if rule.else_bodies.iter().flatten().all(|is_else| !is_else) {
            rule.else_bodies = Vec::new();
        }
        if rule.destructuring_blocks.iter().all(Option::is_none) {
            rule.destructuring_blocks = Vec::new();
        }
    }
    Arc::new(program)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(rego: &str) -> Engine {
        let mut e = Engine::new();
        e.add_policy("t.rego".into(), rego.into()).unwrap();
        e
    }

    /// Slimmed programs keep what the VM reads (`else` bodies, destructured arguments) and give the same
    /// answers as the program as compiled.
    #[test]
    fn slimmed_programs_evaluate_as_compiled() {
        let rego = r#"package t
import rego.v1
unit("Ki") := 1024
unit("Mi") := 1048576
unit("") := 1
size(s) := n if {
    some u in ["Ki", "Mi"]
    endswith(s, u)
    n := to_number(trim_suffix(s, u)) * unit(u)
} else := to_number(s)
pair([a, b]) := a + b
violation contains {"msg": m} if {
    some c in input.containers
    size(c.memory) > 2000
    m := sprintf("%v: %v bytes, pair %v", [c.name, size(c.memory), pair([1, 2])])
}
"#;
        let e = engine(rego);
        let rule = "data.t.violation";
        let rvm = Rvm::compile(&e, rule, None).expect("compiles to the RVM");
        let slimmed = rvm.program();
        assert!(slimmed.rule_infos.iter().all(|r| r.name.is_empty()), "names are emptied");
        // `size` has an else body and `pair` destructures its argument: those stay.
        assert!(slimmed.rule_infos.iter().any(|r| r.else_bodies.iter().flatten().any(|b| *b)));
        assert!(slimmed.rule_infos.iter().any(|r| r.destructuring_blocks.iter().any(Option::is_some)));
        // `unit` (three definitions, no `else`): its per-definition `else` markers are gone, its argument
        // patterns stay.
        assert!(slimmed.rule_infos.iter().any(|r| r.definitions.len() == 3
            && r.else_bodies.is_empty()
            && r.destructuring_blocks.len() == 3));
        assert!(
            slimmed
                .rule_infos
                .iter()
                .all(|r| r.function_info.as_ref().is_none_or(|f| f.param_names.is_empty()))
        );
        let mut full_engine = e.clone();
        let policy = full_engine.compile_with_entrypoint(&rule.into()).unwrap();
        let full = Compiler::compile_from_policy(&policy, &[rule]).unwrap();
        let input = serde_json::json!({"containers": [
            {"name": "a", "memory": "3Ki"}, {"name": "b", "memory": "1500"}, {"name": "c", "memory": "2Mi"},
            {"name": "d", "memory": "5000"}]});
        let mut vm = RegoVM::new_with_policy(policy);
        vm.load_program(full);
        vm.set_input(RegoValue::from(input.clone()));
        let expected = vm.execute().unwrap();
        let got = rvm.eval(RegoValue::from(input), &Budget::default()).unwrap();
        assert_eq!(got, expected);
        let msgs = serde_json::to_value(&got).unwrap();
        assert!(msgs.to_string().contains("a: 3072 bytes, pair 3"), "{msgs}");
    }
}
