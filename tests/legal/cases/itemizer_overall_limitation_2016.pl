% Text
% Oren is single. In 2016 he was paid $400000 and gave $50000 to charities, which he deducts
% as an itemized deduction.
% By hand: §68(a): adjusted gross income exceeds the applicable amount ($250,000, §68(b)(1)(C))
% by $150,000; the reduction is the lesser of 3% of it ($4,500) and 80% of $50,000: $4,500,
% leaving $45,500. §151(d)(3): 2 points for each $2,500 of the $150,000 excess is 120%, capped
% at 100%: no exemption. Taxable income (§63(a)) $354,500; §1(c)(v): $79,772 + 39.6% of
% $104,500 = $121,154.

% Question
% How much tax does Oren have to pay in 2016? $121154

% Facts
:- [statutes/prolog/init].
payment_(oren_paid).
patient_(oren_paid,oren).
amount_(oren_paid,400000).
start_(oren_paid,"2016-12-31").
deduction_(oren_gifts).
agent_(oren_gifts,oren).
amount_(oren_gifts,50000).
start_(oren_gifts,"2016-12-31").

% Test
:- tax(oren,2016,121154).
:- halt.
