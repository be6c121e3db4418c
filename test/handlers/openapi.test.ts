/** The deployed `GET /openapi.json` export with a real payload 2.0 event. */
import { describe, expect, it } from 'vitest'
import { handler } from '../../src/handlers/openapi'
import { OPENAPI_DOCUMENT } from '../../src/lib/http/openapi'
import { httpApiEvent, lambdaContext } from '../support/events'

describe('openapi handler', () => {
  it('serves the document as JSON, cacheable, with no auth', async () => {
    // Act
    const response = await handler(
      httpApiEvent({ method: 'GET', path: '/openapi.json' }),
      lambdaContext({ awsRequestId: 'req-openapi' }) as Parameters<typeof handler>[1]
    )

    // Assess
    expect(response.statusCode).toBe(200)
    expect(response.headers?.['content-type']).toMatch(/^application\/json/)
    expect(response.headers?.['cache-control']).toBe('public, max-age=300')
    expect(JSON.parse(response.body ?? '')).toEqual(OPENAPI_DOCUMENT)
  })
})
