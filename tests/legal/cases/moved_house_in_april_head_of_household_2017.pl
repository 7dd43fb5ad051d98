% Text
% Fay has never married. She and her daughter Gia, born April 4th, 2012, lived in a rented flat until
% March 31st, 2017 and since April 1st, 2017 in a house Fay bought; Fay paid all the costs of both
% ($3000 and $15000 in 2017). Fay earned $45000 in 2017 and does not itemize.
% By hand: the house is Gia's and Fay's home for 275 days of 2017, more than half the year, and Fay
% pays all its costs: head of household (§2(b)(1)(A)(i)); Gia shares Fay's abode all year
% (§152(c)(1)(B)). $45,000 - $4,400 - $4,000 = $36,600: §1(b)(ii) $4,440 + 28% of $7,000 =
% $6,400.

% Question
% How much tax does Fay have to pay in 2017? $6400

% Facts
:- [statutes/prolog/init].
birth_(fay_born).
agent_(fay_born,fay).
start_(fay_born,"1980-08-08").
daughter_(gia_daughter_of_fay).
agent_(gia_daughter_of_fay,gia).
patient_(gia_daughter_of_fay,fay).
start_(gia_daughter_of_fay,"2012-04-04").
residence_(fay_old_flat).
agent_(fay_old_flat,fay).
patient_(fay_old_flat,old_flat).
start_(fay_old_flat,"2012-04-04").
end_(fay_old_flat,"2017-03-31").
residence_(gia_old_flat).
agent_(gia_old_flat,gia).
patient_(gia_old_flat,old_flat).
start_(gia_old_flat,"2012-04-04").
end_(gia_old_flat,"2017-03-31").
residence_(fay_new_house).
agent_(fay_new_house,fay).
patient_(fay_new_house,new_house).
start_(fay_new_house,"2017-04-01").
residence_(gia_new_house).
agent_(gia_new_house,gia).
patient_(gia_new_house,new_house).
start_(gia_new_house,"2017-04-01").
payment_(fay_rent_old).
agent_(fay_rent_old,fay).
purpose_(fay_rent_old,old_flat).
amount_(fay_rent_old,3000).
start_(fay_rent_old,"2017-01-01").
payment_(fay_costs_new).
agent_(fay_costs_new,fay).
purpose_(fay_costs_new,new_house).
amount_(fay_costs_new,15000).
start_(fay_costs_new,"2017-04-01").
income_(fay_income).
agent_(fay_income,fay).
amount_(fay_income,45000).
start_(fay_income,"2017-12-31").

% Test
:- tax(fay,2017,6400).
:- halt.
