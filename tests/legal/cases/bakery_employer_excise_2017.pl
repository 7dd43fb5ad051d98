% Text
% Pia owns a bakery. Quinn worked for her there from January 2nd to December 22nd, 2017, and
% she paid him $24000 in cash for it on December 22nd, 2017. Pia has no income of her own stated.
% By hand: Pia is an employer (§3306(a)(1)(A): wages of $1,500 or more); the wages counted are
% the first $7,000 (§3306(b)(1)); §3301: 6% of $7,000 = $420. Her income tax is nothing.

% Question
% How much tax does Pia have to pay in 2017? $420

% Facts
:- [statutes/prolog/init].
business_(pias_bakery).
agent_(pias_bakery,pia).
service_(quinn_bakes).
agent_(quinn_bakes,quinn).
patient_(quinn_bakes,pia).
location_(quinn_bakes,pias_bakery).
start_(quinn_bakes,"2017-01-02").
end_(quinn_bakes,"2017-12-22").
payment_(pia_pays_quinn).
agent_(pia_pays_quinn,pia).
patient_(pia_pays_quinn,quinn).
purpose_(pia_pays_quinn,quinn_bakes).
means_(pia_pays_quinn,cash).
amount_(pia_pays_quinn,24000).
start_(pia_pays_quinn,"2017-12-22").

% Test
:- tax(pia,2017,420).
:- halt.
