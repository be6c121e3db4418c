/**
 * The lite DynamoDB client's POST over node:http(s): what it sends, what it
 * answers for any status, and its time bound (to the last byte, not just the
 * headers) against loopback servers.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { post } from '../../../../src/lib/store/dynamodb-lite/transport'
import { fakeDynamoDb, rejectionOf, type Received } from './support'

/** A loopback server that sends a status and headers, some of a body, and then never the rest. */
async function stallingServer(): Promise<{ url: URL; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'content-length': '100' })
      res.write('{"Responses":')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: new URL(`http://127.0.0.1:${port}`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

describe('post', () => {
  it('sends the body with its headers and its length in bytes, and answers status, headers and text', async () => {
    // Prepare
    const server = await fakeDynamoDb(() => ({ status: 200, body: '{"Responses":{"t":[]}}' }))
    const body = '{"pk":"KEY#ü/€"}'
    // Act
    const answer = await post(new URL(server.endpoint), { 'x-amz-target': 'DynamoDB_20120810.BatchGetItem' }, body, 1500)
    await server.close()
    // Assess
    expect(answer).toMatchObject({ ok: true, status: 200, text: '{"Responses":{"t":[]}}' })
    expect(answer.headers.get('Content-Type')).toBe('application/x-amz-json-1.0')
    expect(answer.headers.get('x-amzn-errortype')).toBeNull()
    const received = server.requests[0] as Received
    expect(received.body).toBe(body)
    expect(received.headers['x-amz-target']).toBe('DynamoDB_20120810.BatchGetItem')
    expect(received.headers['content-length']).toBe(String(Buffer.byteLength(body)))
    expect(Buffer.byteLength(body)).toBeGreaterThan(body.length)
  })

  it('answers an error status as an answer, not a rejection', async () => {
    const server = await fakeDynamoDb(() => ({ status: 503, body: 'busy' }))
    const answer = await post(new URL(server.endpoint), {}, '{}', 1500)
    await server.close()
    expect(answer).toMatchObject({ ok: false, status: 503, text: 'busy' })
  })

  it('rejects with TimeoutError when no answer comes within the bound', async () => {
    const server = await fakeDynamoDb(() => 'hang')
    const started = performance.now()
    const error = await rejectionOf(post(new URL(server.endpoint), {}, '{}', 300))
    const elapsed = performance.now() - started
    await server.close()
    expect(error.name).toBe('TimeoutError')
    expect(elapsed).toBeGreaterThan(300 - 50)
    expect(elapsed).toBeLessThan(2000)
  })

  it('bounds the whole answer: a body that stops halfway is a TimeoutError too', async () => {
    const server = await stallingServer()
    const error = await rejectionOf(post(server.url, {}, '{}', 300))
    await server.close()
    expect(error.name).toBe('TimeoutError')
  })

  it("rejects with node's error, its code included, when nothing listens", async () => {
    const server = await fakeDynamoDb(() => 'hang')
    const url = new URL(server.endpoint)
    await server.close()
    const error = (await rejectionOf(post(url, {}, '{}', 1500))) as Error & { code?: string }
    expect(error.name).not.toBe('TimeoutError')
    expect(error.code).toBe('ECONNREFUSED')
  })
})
