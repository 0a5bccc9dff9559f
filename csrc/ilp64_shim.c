/* filled by the Enzyme-layer work */
