export { compile, type CompileOptions, type CompileResult } from './compile.js';
export { formatPlanText } from './format-plan.js';
export { planToJson, planAsData } from './plan-json.js';
export { fillPutLocalInfo } from './put-local-info.js';
