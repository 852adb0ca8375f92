import { describe, expect, it } from "vitest";
import { parseLocation, parseUsAddress, stateCode } from "../src/Location.js";

describe("parseLocation", () => {
  it.each([
    ["Buffalo, NY", { city: "Buffalo", state: "NY" }],
    ["Buffalo NY", { city: "Buffalo", state: "NY" }],
    ["buffalo, ny", { city: "buffalo", state: "NY" }],
    ["Austin, Texas", { city: "Austin", state: "TX" }],
    ["Salt Lake City Utah", { city: "Salt Lake City", state: "UT" }],
    ["Fargo, North Dakota", { city: "Fargo", state: "ND" }],
    ["Fargo North Dakota", { city: "Fargo", state: "ND" }],
    ["New York", { city: "New York", state: "NY" }],
    ["New York, NY", { city: "New York", state: "NY" }],
    ["Texas", { city: null, state: "TX" }],
    ["TX", { city: null, state: "TX" }],
    ["Washington, DC", { city: "Washington", state: "DC" }],
    ["Buffalo, NY 14202, USA", { city: "Buffalo", state: "NY" }],
    ["Springfield", { city: "Springfield", state: null }],
    ["Paris, France", { city: "Paris, France", state: null }],
    ["", { city: null, state: null }],
  ])("%s", (input, expected) => {
    expect(parseLocation(input)).toEqual(expected);
  });

  it("stateCode accepts codes and names only", () => {
    expect(stateCode("ca")).toBe("CA");
    expect(stateCode("California")).toBe("CA");
    expect(stateCode("XX")).toBeNull();
    expect(stateCode("Cali")).toBeNull();
  });
});

describe("parseUsAddress", () => {
  it("splits a Google-style address", () => {
    expect(parseUsAddress("100 High St, Buffalo, NY 14203, USA")).toEqual({
      address: "100 High St",
      city: "Buffalo",
      state: "NY",
      postalCode: "14203",
      country: "US",
    });
  });

  it("keeps suites in the street part", () => {
    expect(parseUsAddress("1 Main St, Suite 4, Austin, TX 78701-1234, United States")).toMatchObject({
      address: "1 Main St, Suite 4",
      city: "Austin",
      state: "TX",
      postalCode: "78701-1234",
    });
  });

  it("leaves what it cannot split in address", () => {
    expect(parseUsAddress("Somewhere Road, Toronto, ON M5V 2T6, Canada")).toEqual({
      address: "Somewhere Road, Toronto, ON M5V 2T6, Canada",
      city: null,
      state: null,
      postalCode: null,
      country: null,
    });
  });
});
