% Text
% Rafe has never been married. His son Sol, born 2010-01-10, has always lived with him in his
% flat. Rafe paid the flat's costs for 2017, $6,000, by June 30th, 2017 (the payment is dated by
% that day, its last), and earned $30,000 by December 31st, 2017 (dated the same way). He takes
% the standard deduction.
% By hand: the $6,000 is the whole cost of the household in 2017 and Rafe furnished it, so he
% maintains the household; Sol (7) is his qualifying child: head of household
% (§2(b)(1)(A)(i)). Standard deduction $4,400, exemptions $4,000: taxable income $21,600;
% §1(b)(i): 15% = $3,240.

% Question
% How much tax does Rafe have to pay in 2017? $3240

% Facts
:- [statutes/prolog/init].
son_(sol_son).
agent_(sol_son,sol).
patient_(sol_son,rafe).
start_(sol_son,"2010-01-10").
birth_(sol_born).
agent_(sol_born,sol).
start_(sol_born,"2010-01-10").
residence_(rafe_home).
agent_(rafe_home,rafe).
agent_(rafe_home,sol).
patient_(rafe_home,rafes_flat).
start_(rafe_home,"2010-01-10").
payment_(rafe_flat_costs).
agent_(rafe_flat_costs,rafe).
purpose_(rafe_flat_costs,rafes_flat).
amount_(rafe_flat_costs,6000).
end_(rafe_flat_costs,"2017-06-30").
income_(rafe_pay).
agent_(rafe_pay,rafe).
amount_(rafe_pay,30000).
end_(rafe_pay,"2017-12-31").

% Test
:- tax(rafe,2017,3240).
:- halt.
