import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "results/", "scratch/", "dist/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // A quantifier asserted on a list passes when the list is empty: tests use expectEvery/expectNone.
    files: ["test/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        ...[
          "CallExpression[callee.name='expect'] > CallExpression.arguments[callee.property.name='every']",
          "CallExpression[callee.name='expect'] > ChainExpression.arguments > CallExpression[callee.property.name='every']",
        ].map((selector) => ({
          selector,
          message: "expect(xs.every(...)) passes on an empty list; use expectEvery (test/support/quantifiers.ts)",
        })),
        ...[
          "CallExpression[callee.property.name='toBe'][arguments.0.value=false] > MemberExpression.callee > CallExpression.object[callee.name='expect'] > CallExpression.arguments[callee.property.name='some']",
          "CallExpression[callee.property.name='toBe'][arguments.0.value=false] > MemberExpression.callee > CallExpression.object[callee.name='expect'] > ChainExpression.arguments > CallExpression[callee.property.name='some']",
        ].map((selector) => ({
          selector,
          message:
            "expect(xs.some(...)).toBe(false) passes on an empty list; use expectNone (test/support/quantifiers.ts)",
        })),
      ],
    },
  },
);
