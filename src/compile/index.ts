export { compile } from './compile.js';
export { formatPlanText } from './format-plan.js';
export { planToJson, planAsData } from './plan-json.js';
