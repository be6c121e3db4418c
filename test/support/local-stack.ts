// The end-to-end suites start the stack exactly as `npm start` does; the code lives with the local stack.
export { startLocalStack, type LocalStack } from '../../src/local/stack-process'
